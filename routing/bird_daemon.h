// BirdDaemon: one BIRD 2 daemon run as our child (`bird -f -c CONF -s SOCK
// -P PID`, in the foreground so its exit is ours to see), supervised
// (host::Supervisor: restarted with backoff when it exits) and driven over
// its control socket (BirdClient). Nothing here waits in the event loop:
// starting BIRD means launching it and then asking its socket, on a timer,
// until it greets; stopping means SIGTERM and a timer for SIGKILL.
//
//   stopped -> [clearing_stale] -> starting -> running
//                                     ^           |  exits
//                                     +-- restarting <-+
//   a launch that fails (no binary, ...) -> failed: start() again to retry
//
// A BIRD that already answers on the socket when start() is called is not
// ours: StaleBird says whether to refuse to start (two BIRDs on one socket
// would be mistaken for each other) or to ask it to shut down (`down`) and
// take its place (ergwd after a crash left its BIRD behind).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/clock.h"
#include "host/child_process.h"
#include "host/supervisor.h"
#include "routing/bird_client.h"

namespace ergw::routing {

enum class StaleBird { refuse, shut_down };

struct BirdDaemonOptions {
  std::string bird_binary = "/usr/sbin/bird";
  std::string config_path;
  std::string socket_path;
  std::string pid_path;
  // A namespace under /run/netns (as `ip netns add` makes): BIRD then runs as
  // `ip netns exec NS bird ...`, which execs in place. Empty: ours.
  std::string network_namespace;
  // Where BIRD's stdout and stderr go; empty: /dev/null.
  std::string output_path;
  // e.g. {"-u", "bird", "-g", "bird"} in production.
  std::vector<std::string> extra_arguments;
  // How long BIRD may take from its launch to greeting on its socket; then
  // it is killed and restarted.
  std::chrono::milliseconds start_timeout{10000};
  std::chrono::milliseconds poll_interval{50};  // asking the socket while it starts
  std::chrono::milliseconds stop_grace{3000};   // SIGTERM, then SIGKILL
  // How long a stale BIRD may take to leave after `down`.
  std::chrono::milliseconds stale_timeout{15000};
  StaleBird stale = StaleBird::refuse;
  host::Backoff restart_backoff;
  BirdClientOptions client;  // socket_path is filled in from above
};

class BirdDaemon {
 public:
  enum class State { stopped, clearing_stale, starting, running, restarting, failed };
  using RunningHandler = std::function<void(pid_t pid)>;
  using DownHandler = std::function<void(const std::string& why)>;
  using DiagnosticHandler = std::function<void(const std::string& text)>;

  BirdDaemon(boost::asio::any_io_executor executor, Clock& clock, host::Launcher& launcher, BirdDaemonOptions options);
  // Ends BIRD if it still runs (SIGTERM, up to 3 s, SIGKILL): blocking, for
  // a program's exit.
  ~BirdDaemon();
  BirdDaemon(const BirdDaemon&) = delete;
  BirdDaemon& operator=(const BirdDaemon&) = delete;

  // BIRD greets on its socket: after the first start and every restart.
  void on_running(RunningHandler handler);
  // BIRD exited, did not come up in time, could not be launched, or another
  // BIRD holds the socket. A restart follows unless the state is failed.
  void on_down(DownHandler handler);
  // Notes for the log (a stale BIRD found, ...).
  void on_diagnostic(DiagnosticHandler handler);

  void start();
  void stop(std::function<void()> done = {});

  BirdClient& client() { return client_; }
  State state() const { return state_; }
  bool running() const { return state_ == State::running; }
  pid_t pid() const { return pid_; }
  unsigned restarts() const;
  // Why BIRD is not running (empty while it runs).
  const std::string& error() const { return error_; }
  const BirdDaemonOptions& options() const { return options_; }

 private:
  host::LaunchSpec launch_spec() const;
  void probe_stale();
  void shut_down_stale();
  void wait_for_stale_to_leave(Clock::TimePoint deadline);
  void launch();
  void supervisor_event(const host::ServiceEvent& event);
  void poll_socket(uint64_t run);
  void went_down(std::string why);
  void diagnostic(const std::string& text);
  std::string output_hint() const;

  Clock& clock_;
  BirdDaemonOptions options_;
  host::Supervisor supervisor_;
  BirdClient client_;
  std::unique_ptr<Timer> timer_;
  State state_ = State::stopped;
  pid_t pid_ = 0;
  uint64_t run_ = 0;  // bumps with every launch: a poll answers only for its own run
  Clock::TimePoint launched_at_{};
  std::string error_;
  RunningHandler on_running_;
  DownHandler on_down_;
  DiagnosticHandler on_diagnostic_;
};

const char* to_string(BirdDaemon::State state);

}  // namespace ergw::routing
