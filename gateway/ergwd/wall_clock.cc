#include "gateway/ergwd/wall_clock.h"

namespace ergw::gateway {
namespace {

class SystemWallClock final : public WallClock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

const WallClock& system_wall_clock() {
  static const SystemWallClock clock;
  return clock;
}

}  // namespace ergw::gateway
