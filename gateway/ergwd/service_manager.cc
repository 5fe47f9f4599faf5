#include "gateway/ergwd/service_manager.h"

#include <systemd/sd-daemon.h>

#include "gateway/ergwd/log.h"

namespace ergw::gateway {
namespace {

void notify(const std::string& state) {
  // 0 outside systemd, negative on an error; neither stops the daemon.
  if (int r = sd_notify(0, state.c_str()); r < 0) {
    log_line(LogLevel::debug, "sd_notify failed: error " + std::to_string(-r));
  }
}

}  // namespace

std::chrono::milliseconds watchdog_ping_interval(std::chrono::microseconds timeout) {
  return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(timeout / 2));
}

ServiceManager::ServiceManager(Clock& clock) : clock_(clock) {}
ServiceManager::~ServiceManager() = default;

void ServiceManager::ready(const std::string& status) {
  if (ready_) return;
  ready_ = true;
  notify("READY=1\nSTATUS=" + status);
}

void ServiceManager::status(const std::string& status) { notify("STATUS=" + status); }

void ServiceManager::stopping() { notify("STOPPING=1"); }

std::optional<std::chrono::milliseconds> ServiceManager::start_watchdog() {
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  watchdog_interval_ = watchdog_ping_interval(std::chrono::microseconds(usec));
  watchdog_timer_ = clock_.make_timer();
  ping();
  return watchdog_interval_;
}

void ServiceManager::ping() {
  notify("WATCHDOG=1");
  watchdog_timer_->start(watchdog_interval_, [this] { ping(); });
}

}  // namespace ergw::gateway
