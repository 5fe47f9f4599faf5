// Runs daemons inside lab namespaces and restarts them when they die, as
// systemd's Restart=always would: a short backoff (200 ms, doubling up to 5 s,
// back to 200 ms after 10 s of good running). The supervising is the
// product's (host::Supervisor, the same ergwd runs BIRD with), on an event
// loop of this object's own thread; this class gives the lab and its tests a
// blocking, thread-safe face on it and writes a line to each daemon's log for
// every start, exit and restart.
//
// Each daemon runs as
//   ip netns exec NS unshare -m --propagation private sh -c SCRIPT sh ARGV...
// where SCRIPT mounts a fresh tmpfs on /run, creates DIRS in it and execs
// ARGV, so the daemon sees its own empty /run (pid files and default sockets
// of one charon never meet another's). Paths under /run that must stay
// visible (the lab's own state directory lives in /run/ergw-lab) are bound
// back: the tmpfs is assembled at a staging directory, the paths are bind-
// mounted into it, and it is then moved onto /run. Every step execs in place,
// so the pid we hold is the daemon's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "host/child_process.h"
#include "host/supervisor.h"
#include "lab/lab_state.h"

namespace ergw::lab {

// `mount -t overlay -o lowerdir=LOWER:TARGET TARGET` inside the daemon's
// private mount namespace: files of LOWER appear in TARGET for it alone (the
// lab's charon finds the ergw-ipsec plugin built in build/lib/charon-plugins).
struct OverlayMount {
  std::string lower;
  std::string target;
};

struct DaemonSpec {
  std::string name;                    // unique within the supervisor, e.g. "charon-appliance"
  std::string netns;                   // empty: the caller's namespace (not used by the lab)
  std::vector<std::string> argv;
  std::vector<std::string> extra_env;  // "NAME=value"
  bool private_run = true;             // mount a private tmpfs on /run
  std::vector<std::string> run_dirs;   // created inside the private /run, e.g. "/run/strongswan"
  std::vector<std::string> keep_visible;  // paths under /run bound back into the private /run
  std::string staging_dir;             // empty directory for assembling the private /run (with keep_visible)
  std::vector<OverlayMount> overlays;  // with private_run only
  std::filesystem::path log;           // stdout+stderr, appended; supervisor notes go here too
};

// The full command line a spec runs (exposed for tests and docs).
std::vector<std::string> daemon_command(const DaemonSpec& spec);

class Supervisor {
 public:
  // `on_change` runs (on the supervisor's thread or the caller's) whenever a
  // daemon's pid changes; the lab uses it to rewrite its owner record.
  explicit Supervisor(std::function<void()> on_change = {}, host::Backoff backoff = {});
  ~Supervisor();  // stops every daemon
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the daemon now and supervises it.
  Status start(DaemonSpec spec);
  // Sends `signal` to the daemon on purpose (tests); supervision goes on, so
  // it is restarted after the backoff. Returns the pid that was signalled.
  Result<pid_t> kill_daemon(const std::string& name, int signal);
  // Stops restarting the daemon but leaves it running.
  void unsupervise(const std::string& name);
  // Stops supervision and terminates the daemon (SIGTERM, then SIGKILL).
  void stop(const std::string& name);
  void stop_all();
  // Forgets every daemon without stopping it (a kept lab outliving its owner).
  void detach_all();

  std::optional<pid_t> pid(const std::string& name) const;
  int restarts(const std::string& name) const;
  // Waits until the daemon runs with a pid other than `old_pid`.
  std::optional<pid_t> wait_for_restart(const std::string& name, pid_t old_pid,
                                        std::chrono::milliseconds timeout);
  std::vector<DaemonRecord> records() const;

 private:
  // What the loop last reported of a daemon; read by any thread.
  struct Daemon {
    DaemonSpec spec;
    pid_t pid = 0;
    int restarts = 0;
    bool started = false;
  };

  // Runs `f` on the loop thread and returns its result.
  template <typename F>
  auto on_loop(F f) -> decltype(f());
  void event(const host::ServiceEvent& event);  // on the loop thread
  static void note(const DaemonSpec& spec, const std::string& line);
  void notify_change();

  std::function<void()> on_change_;
  host::Backoff backoff_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Daemon> daemons_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<Clock> clock_;                  // loop thread only
  std::unique_ptr<host::Launcher> launcher_;      // loop thread only
  std::unique_ptr<host::Supervisor> supervisor_;  // loop thread only
  std::thread thread_;
};

}  // namespace ergw::lab
