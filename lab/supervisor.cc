#include "lab/supervisor.h"

#include <signal.h>
#include <time.h>

#include <fstream>

#include "lab/process.h"

namespace ergw::lab {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(50);

std::string wall_clock() {
  char buffer[32];
  const time_t now = time(nullptr);
  tm local{};
  localtime_r(&now, &local);
  strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

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
    script += " && exec \"$@\"";
    argv.insert(argv.end(), {"unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"});
  }
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  return argv;
}

Supervisor::Supervisor(std::function<void()> on_change, BackoffPolicy backoff)
    : on_change_(std::move(on_change)), backoff_(backoff), thread_([this] { run(); }) {}

Supervisor::~Supervisor() {
  stop_all();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Supervisor::note(const DaemonSpec& spec, const std::string& line) {
  if (spec.log.empty()) return;
  std::ofstream log(spec.log, std::ios::app);
  log << "[" << wall_clock() << " ergw-lab supervisor] " << spec.name << ": " << line << "\n";
}

Status Supervisor::launch(Daemon& daemon) {
  if (!daemon.spec.staging_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(daemon.spec.staging_dir, ec);
    if (ec) return Error{"cannot create " + daemon.spec.staging_dir + ": " + ec.message()};
  }
  auto pid = spawn_process(daemon_command(daemon.spec),
                           SpawnOptions{daemon.spec.extra_env, daemon.spec.log.empty()
                                                                   ? std::nullopt
                                                                   : std::optional(daemon.spec.log)});
  if (!pid.ok()) return Error{pid.error()};
  daemon.pid = pid.value();
  daemon.started = Clock::now();
  note(daemon.spec, "started, pid " + std::to_string(daemon.pid));
  return {};
}

Status Supervisor::start(DaemonSpec spec) {
  {
    std::lock_guard lock(mutex_);
    if (daemons_.count(spec.name) != 0) return Error{"daemon '" + spec.name + "' is already supervised"};
    for (const auto& path : spec.keep_visible) {
      if (path.rfind("/run/", 0) != 0 || path.find('\'') != std::string::npos) {
        return Error{"daemon '" + spec.name + "': keep_visible path '" + path + "' is not a plain path under /run/"};
      }
    }
    auto daemon = std::make_unique<Daemon>();
    daemon->spec = std::move(spec);
    daemon->backoff = backoff_.initial;
    Status s = launch(*daemon);
    if (!s.ok()) return s;
    daemons_[daemon->spec.name] = std::move(daemon);
  }
  notify_change();
  return {};
}

Result<pid_t> Supervisor::kill_daemon(const std::string& name, int signal) {
  std::lock_guard lock(mutex_);
  const auto it = daemons_.find(name);
  if (it == daemons_.end() || it->second->pid <= 0) return Error{"daemon '" + name + "' is not running"};
  note(it->second->spec, "sending signal " + std::to_string(signal) + " on purpose");
  if (::kill(it->second->pid, signal) != 0) return Error{"kill " + std::to_string(it->second->pid) + " failed"};
  return it->second->pid;
}

void Supervisor::unsupervise(const std::string& name) {
  std::lock_guard lock(mutex_);
  const auto it = daemons_.find(name);
  if (it != daemons_.end()) it->second->supervised = false;
}

void Supervisor::stop(const std::string& name) {
  std::unique_ptr<Daemon> daemon;
  {
    std::lock_guard lock(mutex_);
    const auto it = daemons_.find(name);
    if (it == daemons_.end()) return;
    daemon = std::move(it->second);
    daemons_.erase(it);
  }
  if (daemon->pid > 0) {
    terminate_process(daemon->pid);
    note(daemon->spec, "stopped");
  }
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
  std::lock_guard lock(mutex_);
  for (const auto& [name, daemon] : daemons_) note(daemon->spec, "left running, no longer supervised");
  daemons_.clear();
}

std::optional<pid_t> Supervisor::pid(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = daemons_.find(name);
  if (it == daemons_.end() || it->second->pid <= 0) return std::nullopt;
  return it->second->pid;
}

int Supervisor::restarts(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = daemons_.find(name);
  return it == daemons_.end() ? 0 : it->second->restarts;
}

std::optional<pid_t> Supervisor::wait_for_restart(const std::string& name, pid_t old_pid,
                                                  std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<pid_t> result;
  changed_.wait_for(lock, timeout, [&] {
    const auto it = daemons_.find(name);
    if (it != daemons_.end() && it->second->pid > 0 && it->second->pid != old_pid) result = it->second->pid;
    return result.has_value();
  });
  return result;
}

std::vector<DaemonRecord> Supervisor::records() const {
  std::lock_guard lock(mutex_);
  std::vector<DaemonRecord> out;
  for (const auto& [name, d] : daemons_) out.push_back({name, d->spec.netns, d->pid});
  return out;
}

bool Supervisor::tend(Daemon& d, Clock::time_point now) {
  if (d.pid > 0) {
    int status = 0;
    if (!reap_if_exited(d.pid, &status)) return false;
    note(d.spec, "pid " + std::to_string(d.pid) + " " + describe_wait_status(status));
    d.pid = 0;
    if (now - d.started >= backoff_.reset_after) d.backoff = backoff_.initial;
    d.next_start = now + d.backoff;
    if (d.supervised) note(d.spec, "restarting in " + std::to_string(d.backoff.count()) + " ms");
    d.backoff = std::min(d.backoff * 2, backoff_.max);
    return true;
  }
  if (!d.supervised || now < d.next_start) return false;
  Status s = launch(d);
  if (!s.ok()) {
    note(d.spec, "restart failed: " + s.error());
    d.next_start = now + d.backoff;
    d.backoff = std::min(d.backoff * 2, backoff_.max);
    return false;
  }
  ++d.restarts;
  return true;
}

void Supervisor::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    bool any_change = false;
    const auto now = Clock::now();
    for (auto& [name, daemon] : daemons_) any_change = tend(*daemon, now) || any_change;
    if (any_change) {
      lock.unlock();
      notify_change();
      lock.lock();
      continue;
    }
    changed_.wait_for(lock, kTick);
  }
}

void Supervisor::notify_change() {
  // The callback first: whoever wakes up on the new pid finds the owner
  // record already naming it.
  if (on_change_) on_change_();
  changed_.notify_all();
}

}  // namespace ergw::lab
