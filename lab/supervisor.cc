#include "lab/supervisor.h"

#include <signal.h>
#include <time.h>

#include <fstream>
#include <future>

#include <boost/asio/post.hpp>

#include "common/time_format.h"

namespace ergw::lab {
namespace {

constexpr auto kStopGrace = std::chrono::seconds(3);

std::string wall_clock() { return format_time(std::chrono::system_clock::now(), TimeFormat::time_of_day_local); }

}  // namespace

std::vector<std::string> daemon_command(const DaemonSpec& spec) {
  std::vector<std::string> argv;
  if (!spec.netns.empty()) argv = {"ip", "netns", "exec", spec.netns};
  if (spec.private_run) {
    // unshare without --fork execs in place, as do sh's exec and ip netns exec.
    std::string script;
    if (spec.keep_visible.empty() || spec.staging_dir.empty()) {
      script = "mount -n -t tmpfs -o mode=0755 none /run";
    } else {
      const std::string stage = "'" + spec.staging_dir + "'";
      script = "mount -n -t tmpfs -o mode=0755 none " + stage;
      for (const auto& path : spec.keep_visible) {
        const std::string inside = "'" + spec.staging_dir + "/" + path.substr(std::string("/run/").size()) + "'";
        script += " && mkdir -p " + inside + " && mount -n --bind '" + path + "' " + inside;
      }
      script += " && mount -n --move " + stage + " /run";
    }
    for (const auto& dir : spec.run_dirs) script += " && mkdir -p '" + dir + "'";
    for (const auto& o : spec.overlays) {
      script += " && mount -n -t overlay overlay -o 'lowerdir=" + o.lower + ":" + o.target + "' '" + o.target + "'";
    }
    script += " && exec \"$@\"";
    argv.insert(argv.end(), {"unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"});
  }
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  return argv;
}

Supervisor::Supervisor(std::function<void()> on_change, host::Backoff backoff)
    : on_change_(std::move(on_change)), backoff_(backoff), work_(io_.get_executor()) {
  clock_ = make_steady_clock(io_.get_executor());
  launcher_ = host::make_process_launcher(io_.get_executor());
  supervisor_ = std::make_unique<host::Supervisor>(io_.get_executor(), *clock_, *launcher_);
  supervisor_->on_event([this](const host::ServiceEvent& e) { event(e); });
  thread_ = std::thread([this] { io_.run(); });
}

Supervisor::~Supervisor() {
  stop_all();
  on_loop([this] {
    supervisor_.reset();
    return 0;
  });
  work_.reset();
  io_.stop();
  thread_.join();
}

template <typename F>
auto Supervisor::on_loop(F f) -> decltype(f()) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto result = task.get_future();
  boost::asio::post(io_, [&task] { task(); });
  return result.get();
}

void Supervisor::note(const DaemonSpec& spec, const std::string& line) {
  if (spec.log.empty()) return;
  std::ofstream log(spec.log, std::ios::app);
  log << "[" << wall_clock() << " ergw-lab supervisor] " << spec.name << ": " << line << "\n";
}

Status Supervisor::start(DaemonSpec spec) {
  for (const auto& path : spec.keep_visible) {
    if (path.rfind("/run/", 0) != 0 || path.find('\'') != std::string::npos) {
      return Error{"daemon '" + spec.name + "': keep_visible path '" + path + "' is not a plain path under /run/"};
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (daemons_.count(spec.name) != 0) return Error{"daemon '" + spec.name + "' is already supervised"};
  }
  if (!spec.staging_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(spec.staging_dir, ec);
    if (ec) return Error{"cannot create " + spec.staging_dir + ": " + ec.message()};
  }
  host::ServiceSpec service;
  service.name = spec.name;
  service.launch.argv = daemon_command(spec);
  service.launch.extra_env = spec.extra_env;
  if (!spec.log.empty()) service.launch.output = spec.log;
  service.restart = host::Restart::always;
  service.backoff = backoff_;
  // The record first, so the `started` event finds the spec for its note.
  {
    std::lock_guard lock(mutex_);
    daemons_[spec.name] = Daemon{spec, 0, 0, false};
  }
  auto pid = on_loop([this, &service] { return supervisor_->start(std::move(service)); });
  if (!pid.ok()) {
    std::lock_guard lock(mutex_);
    daemons_.erase(spec.name);
    return Error{pid.error()};
  }
  {
    std::lock_guard lock(mutex_);
    daemons_[spec.name].pid = *pid;
  }
  notify_change();
  return {};
}

void Supervisor::event(const host::ServiceEvent& e) {
  DaemonSpec spec;
  {
    std::lock_guard lock(mutex_);
    const auto it = daemons_.find(e.name);
    if (it == daemons_.end()) return;
    spec = it->second.spec;
    switch (e.kind) {
      case host::ServiceEvent::Kind::started:
        // The first `started` is the launch start() made; every later one a restart.
        if (it->second.started) ++it->second.restarts;
        it->second.started = true;
        it->second.pid = e.pid;
        break;
      case host::ServiceEvent::Kind::exited:
        if (it->second.pid == e.pid) it->second.pid = 0;
        break;
      case host::ServiceEvent::Kind::start_failed:
        break;
    }
  }
  switch (e.kind) {
    case host::ServiceEvent::Kind::started:
      note(spec, "started, pid " + std::to_string(e.pid));
      break;
    case host::ServiceEvent::Kind::exited:
      note(spec, "pid " + std::to_string(e.pid) + " " + e.exit->describe());
      if (e.restart_in) note(spec, "restarting in " + std::to_string(e.restart_in->count()) + " ms");
      break;
    case host::ServiceEvent::Kind::start_failed:
      note(spec, "restart failed: " + e.error);
      break;
  }
  notify_change();
}

Result<pid_t> Supervisor::kill_daemon(const std::string& name, int signal) {
  DaemonSpec spec;
  {
    std::lock_guard lock(mutex_);
    const auto it = daemons_.find(name);
    if (it == daemons_.end() || it->second.pid <= 0) return Error{"daemon '" + name + "' is not running"};
    spec = it->second.spec;
  }
  note(spec, "sending signal " + std::to_string(signal) + " on purpose");
  return on_loop([this, &name, signal] { return supervisor_->signal(name, signal); });
}

void Supervisor::unsupervise(const std::string& name) {
  on_loop([this, &name] {
    supervisor_->set_restart(name, host::Restart::never);
    return 0;
  });
}

void Supervisor::stop(const std::string& name) {
  DaemonSpec spec;
  {
    std::lock_guard lock(mutex_);
    const auto it = daemons_.find(name);
    if (it == daemons_.end()) return;
    spec = it->second.spec;
    daemons_.erase(it);
  }
  std::promise<void> gone;
  on_loop([this, &name, &gone] {
    supervisor_->stop(name, kStopGrace, [&gone] { gone.set_value(); });
    return 0;
  });
  gone.get_future().wait();
  note(spec, "stopped");
  notify_change();
}

void Supervisor::stop_all() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, daemon] : daemons_) names.push_back(name);
  }
  for (const auto& name : names) stop(name);
}

void Supervisor::detach_all() {
  std::map<std::string, Daemon> detached;
  {
    std::lock_guard lock(mutex_);
    detached.swap(daemons_);
  }
  on_loop([this] {
    supervisor_->detach_all();
    return 0;
  });
  for (const auto& [name, daemon] : detached) note(daemon.spec, "left running, no longer supervised");
}

std::optional<pid_t> Supervisor::pid(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = daemons_.find(name);
  if (it == daemons_.end() || it->second.pid <= 0) return std::nullopt;
  return it->second.pid;
}

int Supervisor::restarts(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = daemons_.find(name);
  return it == daemons_.end() ? 0 : it->second.restarts;
}

std::optional<pid_t> Supervisor::wait_for_restart(const std::string& name, pid_t old_pid,
                                                  std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<pid_t> result;
  changed_.wait_for(lock, timeout, [&] {
    const auto it = daemons_.find(name);
    if (it != daemons_.end() && it->second.pid > 0 && it->second.pid != old_pid) result = it->second.pid;
    return result.has_value();
  });
  return result;
}

std::vector<DaemonRecord> Supervisor::records() const {
  std::lock_guard lock(mutex_);
  std::vector<DaemonRecord> out;
  for (const auto& [name, d] : daemons_) out.push_back({name, d.spec.netns, d.pid});
  return out;
}

void Supervisor::notify_change() {
  // The callback first: whoever wakes up on the new pid finds the owner
  // record already naming it.
  if (on_change_) on_change_();
  changed_.notify_all();
}

}  // namespace ergw::lab
