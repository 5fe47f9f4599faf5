#include "host/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace ergw::host {
namespace {

namespace asio = boost::asio;

// glibc 2.36 (Debian 12) declares pidfd_open() without C linkage in C++, so
// the system call is made directly.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Reaps `pid` if it has exited (never blocks).
std::optional<int> try_reap(pid_t pid) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno == EINTR) continue;
    // ECHILD: someone else reaped it (a SIGCHLD handler set to SIG_IGN); it
    // is gone all the same.
    if (r < 0) return 0;
    return std::nullopt;
  }
}

// Waits on the pidfd up to `timeout`; true when the child has exited.
bool wait_readable(int pidfd, std::chrono::milliseconds timeout) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n >= 0 || errno != EINTR) return n > 0;
  }
}

class PosixChild final : public ChildProcess {
 public:
  PosixChild(asio::any_io_executor executor, pid_t pid, int pidfd)
      : state_(std::make_shared<State>(std::move(executor), pid, pidfd)) {}

  ~PosixChild() override {
    if (state_->released || state_->exit) return;
    ::kill(state_->pid, SIGKILL);
    wait_readable(state_->descriptor.native_handle(), std::chrono::seconds(5));
    (void)try_reap(state_->pid);
  }

  pid_t pid() const override { return state_->pid; }
  bool exited() const override { return state_->exit.has_value(); }

  void signal(int signal) override {
    if (!state_->exit && !state_->released) ::kill(state_->pid, signal);
  }

  void async_wait_exit(ExitHandler handler) override {
    if (state_->released) return;
    if (state_->exit) {
      asio::post(state_->descriptor.get_executor(),
                 [handler = std::move(handler), status = *state_->exit] { handler(ExitStatus{status}); });
      return;
    }
    state_->handler = std::move(handler);
    State::wait(state_);
  }

  void terminate_and_wait(std::chrono::milliseconds grace) override {
    if (state_->exit || state_->released) return;
    const int fd = state_->descriptor.native_handle();
    ::kill(state_->pid, SIGTERM);
    if (!wait_readable(fd, grace)) {
      ::kill(state_->pid, SIGKILL);
      wait_readable(fd, std::chrono::seconds(5));
    }
    if (auto status = try_reap(state_->pid)) state_->reaped(*status);
  }

  void release() override {
    state_->released = true;
    state_->handler = nullptr;
    boost::system::error_code ignored;
    state_->descriptor.close(ignored);
  }

 private:
  struct State {
    State(asio::any_io_executor executor, pid_t p, int pidfd) : pid(p), descriptor(std::move(executor), pidfd) {}
    void reaped(int status) {
      exit = status;
      boost::system::error_code ignored;
      descriptor.cancel(ignored);
      if (!handler) return;
      // Never from inside the caller: always through the executor.
      asio::post(descriptor.get_executor(),
                 [handler = std::move(handler), status] { handler(ExitStatus{status}); });
      handler = nullptr;
    }
    // Waits for the pidfd to become readable and reaps the child. A wake-up
    // whose child is still running (seen: a stale readiness the reactor
    // delivered to a pidfd that had just reused a closed socket's descriptor
    // number) is no exit: wait again.
    static void wait(const std::shared_ptr<State>& self) {
      if (self->waiting) return;
      self->waiting = true;
      self->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                  [weak = std::weak_ptr<State>(self)](const boost::system::error_code& ec) {
                                    auto state = weak.lock();
                                    if (!state) return;
                                    state->waiting = false;
                                    if (ec || state->released) return;
                                    if (auto status = try_reap(state->pid)) {
                                      state->reaped(*status);
                                    } else {
                                      wait(state);
                                    }
                                  });
    }
    pid_t pid;
    asio::posix::stream_descriptor descriptor;
    std::optional<int> exit;
    ExitHandler handler;
    bool waiting = false;
    bool released = false;
  };
  std::shared_ptr<State> state_;
};

class PosixLauncher final : public Launcher {
 public:
  explicit PosixLauncher(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  Result<std::unique_ptr<ChildProcess>> launch(const LaunchSpec& spec) override {
    auto pid = spawn(spec);
    if (!pid) return Error{pid.error()};
    const int pidfd = open_pidfd(*pid);
    if (pidfd < 0) {
      const int saved = errno;
      ::kill(*pid, SIGKILL);
      int status = 0;
      ::waitpid(*pid, &status, 0);
      return Error{std::string("pidfd_open: ") + std::strerror(saved) + " (ergw needs Linux 5.3 or later)"};
    }
    return std::unique_ptr<ChildProcess>(std::make_unique<PosixChild>(executor_, *pid, pidfd));
  }

 private:
  asio::any_io_executor executor_;
};

}  // namespace

std::unique_ptr<Launcher> make_process_launcher(asio::any_io_executor executor) {
  return std::make_unique<PosixLauncher>(std::move(executor));
}

}  // namespace ergw::host
