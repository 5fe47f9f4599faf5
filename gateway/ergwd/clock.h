// Wall-clock time for ergwd's records (when an error happened, when a
// snapshot was taken). Passed in, never read inside, so tests can hold time
// still or move it on (a fake clock).
#pragma once

#include <chrono>

namespace ergw::gateway {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

// The system's clock.
const Clock& system_clock();

}  // namespace ergw::gateway
