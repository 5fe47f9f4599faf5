// A clock that stands still until the test moves it.
#pragma once

#include <chrono>

#include "gateway/ergwd/wall_clock.h"

namespace ergw::gateway::testing {

class FakeWallClock final : public WallClock {
 public:
  // 2026-11-30T12:00:00Z: a fixed, recognisable start.
  FakeWallClock() : now_(std::chrono::system_clock::time_point(std::chrono::seconds(1796040000))) {}
  std::chrono::system_clock::time_point now() const override { return now_; }
  void advance(std::chrono::system_clock::duration by) { now_ += by; }

 private:
  std::chrono::system_clock::time_point now_;
};

}  // namespace ergw::gateway::testing
