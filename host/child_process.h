// ChildProcess and Launcher: a started program whose end is reported on an
// Asio executor, so an event loop learns that a daemon exited without
// polling, sleeping or a SIGCHLD handler.
//
// The real launcher starts the program with spawn() (process.h) and opens a
// pidfd for it (pidfd_open, Linux 5.3): the pidfd becomes readable when the
// child exits, the loop then reaps it. Until it is reaped the pid cannot be
// reused, so signalling it is always safe.
//
// Launcher is an interface so that code which supervises a daemon can be
// tested with a fake one (tests/host/fake_launcher.h) and a fake clock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "common/result.h"
#include "host/process.h"

namespace ergw::host {

// How a child ended (waitpid's status).
struct ExitStatus {
  int wait_status = 0;
  std::string describe() const { return describe_wait_status(wait_status); }
};

class ChildProcess {
 public:
  using ExitHandler = std::function<void(ExitStatus)>;
  virtual ~ChildProcess() = default;

  virtual pid_t pid() const = 0;
  virtual bool exited() const = 0;
  // Sends `signal`; nothing once the child has exited.
  virtual void signal(int signal) = 0;
  // Calls `handler` once, on the executor, after the child has exited and was
  // reaped (at once, posted, if it already has). One handler at a time.
  virtual void async_wait_exit(ExitHandler handler) = 0;
  // SIGTERM, up to `grace` for it to exit, then SIGKILL; reaps. This blocks:
  // it is for a program's own exit, when no event loop runs any more.
  virtual void terminate_and_wait(std::chrono::milliseconds grace) = 0;
  // Lets the child run on unwatched (a kept lab outliving its owner). The
  // object is inert afterwards; destroying it then leaves the child alone.
  virtual void release() = 0;
  // Destroying a child that still runs and was not released kills it
  // (SIGKILL) and reaps it.
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  virtual Result<std::unique_ptr<ChildProcess>> launch(const LaunchSpec& spec) = 0;
};

// spawn() + pidfd on `executor`.
std::unique_ptr<Launcher> make_process_launcher(boost::asio::any_io_executor executor);

}  // namespace ergw::host
