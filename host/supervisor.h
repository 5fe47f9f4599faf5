// Supervisor: runs named daemons as children on an Asio executor and, where
// wanted, restarts them when they exit, as systemd's Restart=always would:
// after a backoff that starts short, doubles up to a ceiling, and starts short
// again once a run lasted long enough. Nothing here waits: exits arrive as
// events (ChildProcess::async_wait_exit), restarts and the SIGKILL after a
// stop's grace period are timers.
//
// Every change is reported through on_event, always from the executor and
// never from inside the call that caused it: started (also after each
// restart), exited (with how, and when the restart is due), start_failed (a
// restart could not launch; it is tried again after the backoff).
//
// ergwd runs BIRD with it, the lab its daemons, and the fast path will be
// run the same way. Threading: one executor; use it from that thread only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "host/child_process.h"

namespace ergw::host {

enum class Restart { always, never };

struct Backoff {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{5000};
  // A run at least this long resets the delay to `initial`.
  std::chrono::milliseconds reset_after{10000};
};

struct ServiceSpec {
  std::string name;  // unique within the supervisor
  LaunchSpec launch;
  Restart restart = Restart::always;
  Backoff backoff;
};

struct ServiceEvent {
  enum class Kind { started, exited, start_failed };
  Kind kind = Kind::started;
  std::string name;
  pid_t pid = 0;                                  // started, exited
  std::optional<ExitStatus> exit;                 // exited
  std::string error;                              // start_failed
  std::optional<std::chrono::milliseconds> restart_in;  // exited, start_failed: when it is tried next
};

class Supervisor {
 public:
  using EventHandler = std::function<void(const ServiceEvent&)>;
  using Done = std::function<void()>;

  Supervisor(boost::asio::any_io_executor executor, Clock& clock, Launcher& launcher);
  // Ends every child still supervised: SIGTERM, up to 3 s, then SIGKILL. This
  // blocks; it is meant for a program's exit (use stop() while running).
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  void on_event(EventHandler handler);

  // Launches the daemon now. When the launch fails nothing is supervised and
  // the error says why; once running, an exit is handled per spec.restart.
  Result<pid_t> start(ServiceSpec spec);
  // SIGTERM now, SIGKILL once `grace` has passed; supervision ends at once.
  // `done` runs (on the executor) when the daemon is gone, at once if it was
  // not running.
  void stop(const std::string& name, std::chrono::milliseconds grace, Done done = {});
  // Sends `signal` on purpose (tests, a reload); supervision goes on.
  Result<pid_t> signal(const std::string& name, int signal);
  // Stops restarting it; a running daemon is left running.
  void set_restart(const std::string& name, Restart restart);
  // Forgets every daemon without stopping it.
  void detach_all();

  bool contains(const std::string& name) const;
  std::optional<pid_t> pid(const std::string& name) const;
  unsigned restarts(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  struct Service;
  void watch(Service& service);
  void exited(const std::string& name, pid_t pid, ExitStatus status);
  void relaunch(const std::string& name);
  void schedule_restart(Service& service, std::chrono::milliseconds delay);
  std::chrono::milliseconds next_delay(Service& service);
  void emit(ServiceEvent event);
  void finish_stop(std::unique_ptr<Service> service);

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  Launcher& launcher_;
  EventHandler on_event_;
  std::map<std::string, std::unique_ptr<Service>> services_;
  // Daemons being stopped: no longer supervised, waiting for their exit.
  std::vector<std::unique_ptr<Service>> stopping_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::host
