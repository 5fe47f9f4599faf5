// WallClock: the time of day for ergwd's records (when an error happened,
// when a snapshot was taken), as people read it. Not for measuring or
// scheduling (that is the steady clock's job). Passed in, never read inside,
// so tests can hold time still or move it on.
#pragma once

#include <chrono>

namespace ergw::gateway {

class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

// The system's clock.
const WallClock& system_wall_clock();

}  // namespace ergw::gateway
