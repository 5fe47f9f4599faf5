// ergwd under systemd (Type=notify): readiness, status text and the watchdog,
// through sd_notify(3). Outside systemd (no NOTIFY_SOCKET) every call does
// nothing, so the lab and the tests run ergwd unchanged.
//
// READY=1 is sent once, when the daemon says so (its sockets listen and the
// first reconciliation pass has finished); WATCHDOG=1 from the daemon's own
// event loop every half of WATCHDOG_USEC, so a loop that hangs stops the
// pings and systemd restarts ergwd.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"

namespace ergw::gateway {

class ServiceManager {
 public:
  explicit ServiceManager(Clock& clock);
  ~ServiceManager();

  // READY=1 with a STATUS line; only the first call sends.
  void ready(const std::string& status);
  // STATUS=...: what `systemctl status ergwd` shows beside the state.
  void status(const std::string& status);
  // STOPPING=1.
  void stopping();
  // Starts the watchdog pings when systemd asked for them (WATCHDOG_USEC for
  // this pid); the interval used, or nullopt when there is no watchdog.
  std::optional<std::chrono::milliseconds> start_watchdog();
  bool is_ready() const { return ready_; }

 private:
  void ping();

  Clock& clock_;
  std::unique_ptr<Timer> watchdog_timer_;
  std::chrono::milliseconds watchdog_interval_{0};
  bool ready_ = false;
};

// Half of systemd's watchdog timeout, the interval sd_watchdog_enabled(3)
// recommends at most; at least 1 ms.
std::chrono::milliseconds watchdog_ping_interval(std::chrono::microseconds timeout);

}  // namespace ergw::gateway
