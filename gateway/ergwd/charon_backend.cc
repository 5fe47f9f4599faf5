#include "gateway/ergwd/charon_backend.h"

#include <algorithm>

#include "gateway/ergwd/log.h"

namespace ergw::gateway {
namespace {

bool has(const std::vector<std::string>& plugins, const char* name) {
  return std::find(plugins.begin(), plugins.end(), name) != plugins.end();
}

}  // namespace

std::string charon_backend_problem(DataPlaneKind kind, const std::vector<std::string>& plugins) {
  const bool ergw_ipsec = has(plugins, "ergw-ipsec");
  const bool libipsec = has(plugins, "kernel-libipsec");
  switch (kind) {
    case DataPlaneKind::fastpath:
      if (libipsec) {
        return "charon loaded kernel-libipsec, which takes ESP away from the fast path: set "
               "charon.plugins.kernel-libipsec.load = no (ergwd writes it with --charon-settings) and restart charon";
      }
      if (!ergw_ipsec) {
        return "charon has not loaded the ergw-ipsec plugin, so no SA reaches the fast path: install it, load it "
               "before kernel-netlink (charon.plugins.ergw-ipsec.load = 10), and restart charon";
      }
      return "";
    case DataPlaneKind::libipsec:
      if (ergw_ipsec) return "charon loaded ergw-ipsec, but the data plane is libipsec: unload it and restart charon";
      if (!libipsec) return "charon has not loaded kernel-libipsec, which the libipsec data plane needs";
      return "";
    case DataPlaneKind::kernel:
      if (ergw_ipsec || libipsec) {
        return std::string("charon loaded ") + (ergw_ipsec ? "ergw-ipsec" : "kernel-libipsec") +
               ", so its SAs do not reach the kernel's XFRM: unload it and restart charon";
      }
      return "";
  }
  return "";
}

CharonBackend::CharonBackend(vici::Client& charon, host::Launcher& launcher, std::string restart_command)
    : charon_(charon), launcher_(launcher), restart_command_(std::move(restart_command)) {}

void CharonBackend::configure(DataPlaneKind kind, const std::string& start_settings) {
  if (configured_ && kind == kind_ && start_settings == start_settings_) return;
  // The first time ergwd does not know what charon started with: its plugins tell.
  if (configured_) stale_ = true;
  configured_ = true;
  kind_ = kind;
  start_settings_ = start_settings;
  ++generation_;
  if (charon_.connected()) check();
}

void CharonBackend::charon_connected() {
  stale_ = false;
  if (configured_) check();
}

void CharonBackend::check() {
  charon_.call("stats", {}, [this, alive = std::weak_ptr<bool>(alive_), generation = generation_](
                                Result<vici::Message> reply) {
    auto token = alive.lock();
    if (!token || !*token || !reply || generation != generation_) return;
    std::vector<std::string> plugins;
    if (auto list = reply.value().get_list("plugins")) plugins = **list;
    problem_ = charon_backend_problem(kind_, plugins);
    if (!problem_.empty()) log_line(LogLevel::error, problem_);
    if (stale_) {
      restart("the settings charon reads only when it starts changed (data plane " + data_plane_name(kind_) + ")");
    } else if (!problem_.empty()) {
      restart("its plugins do not fit the data plane " + data_plane_name(kind_));
    }
  });
}

void CharonBackend::restart(const std::string& why) {
  if (restarted_for_ == generation_) return;  // once per change: no restart loop
  if (restart_command_.empty()) {
    log_line(LogLevel::warning, "charon must be restarted: " + why + " (no --charon-restart-command given)");
    return;
  }
  restarted_for_ = generation_;
  ++restarts_;
  log_line(LogLevel::info, "restarting charon: " + why + ": " + restart_command_);
  host::LaunchSpec spec;
  spec.argv = {"/bin/sh", "-c", restart_command_};
  auto child = launcher_.launch(spec);
  if (!child) {
    log_line(LogLevel::error, "cannot restart charon: " + child.error());
    return;
  }
  command_ = std::move(child.value());
  command_->async_wait_exit([alive = std::weak_ptr<bool>(alive_), command = restart_command_](host::ExitStatus status) {
    auto token = alive.lock();
    if (!token || !*token) return;
    if (status.wait_status != 0) log_line(LogLevel::error, "charon restart (" + command + ") " + status.describe());
  });
}

}  // namespace ergw::gateway
