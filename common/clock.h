// Clock and Timer: time for code that runs on an Asio executor, passed in
// rather than read inside, so a test can drive it by hand (FakeClock in
// tests/common/fake_clock.h) instead of sleeping. One clock gives both kinds
// of time: now() (steady) for measuring and scheduling, wall_now() (the time
// of day) only for records people read, such as when an error happened.
//
// A Timer calls its handler once, on the executor, after the delay; never
// from inside start(), and never after cancel(), a new start() or the
// Timer's destruction. Handlers therefore need no error code and no check
// that their owner still exists, as long as the owner owns the Timer.
//
// Threading: a Clock and its Timers belong to one executor (one thread).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

namespace ergw {

class Timer {
 public:
  virtual ~Timer() = default;
  // Arms the timer; a wait already armed is dropped without being called.
  virtual void start(std::chrono::milliseconds delay, std::function<void()> handler) = 0;
  virtual void cancel() = 0;
  virtual bool armed() const = 0;
};

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // The time of day. It can jump (NTP, an operator): never measure with it.
  virtual WallTime wall_now() const = 0;
  virtual std::unique_ptr<Timer> make_timer() = 0;
};

// The real clock: std::chrono::steady_clock (and system_clock for the time of
// day), timers on `executor`.
std::unique_ptr<Clock> make_steady_clock(boost::asio::any_io_executor executor);

}  // namespace ergw
