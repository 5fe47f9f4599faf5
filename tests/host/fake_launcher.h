// FakeLauncher: a host::Launcher whose "processes" live in the test. A test
// ends one (exit status or signal), sees the signals sent to it, and can make
// launches fail. SIGTERM and SIGKILL end a fake process (unless it is told to
// ignore SIGTERM), SIGSTOP and SIGCONT pause and resume it; hooks let a fake
// daemon (tests/routing/fake_bird.h) follow its process's life. Exits are
// reported through the io_context, as pidfds report real ones.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "host/child_process.h"

namespace ergw::host::testing {

struct FakeProcess {
  pid_t pid = 0;
  LaunchSpec spec;
  std::vector<int> signals;
  bool ended = false;
  int wait_status = 0;
  bool paused = false;           // SIGSTOP without SIGCONT yet
  bool ignores_sigterm = false;
  bool released = false;
  std::function<void()> on_end;               // the daemon's side: it is gone
  std::function<void(bool paused)> on_pause;  // SIGSTOP / SIGCONT
  ChildProcess::ExitHandler exit_handler;
  boost::asio::io_context* io = nullptr;

  static int exited_with(int code) { return (code & 0xff) << 8; }
  static int killed_by(int signal) { return signal & 0x7f; }

  // The process ends now (a crash, an exit); the owner hears of it through
  // the io_context.
  void end(int status) {
    if (ended) return;
    ended = true;
    wait_status = status;
    if (on_end) on_end();
    deliver();
  }

  void deliver() {
    if (!exit_handler || !ended || released) return;
    boost::asio::post(*io, [handler = std::move(exit_handler), status = wait_status] { handler(ExitStatus{status}); });
    exit_handler = nullptr;
  }

  void signal(int sig) {
    if (ended || released) return;
    signals.push_back(sig);
    if (sig == SIGKILL || (sig == SIGTERM && !ignores_sigterm)) {
      end(killed_by(sig));
    } else if (sig == SIGSTOP || sig == SIGCONT) {
      paused = sig == SIGSTOP;
      if (on_pause) on_pause(paused);
    }
  }
};

class FakeChild final : public ChildProcess {
 public:
  explicit FakeChild(std::shared_ptr<FakeProcess> process) : process_(std::move(process)) {}
  ~FakeChild() override {
    process_->exit_handler = nullptr;
    if (!process_->released && !process_->ended) process_->end(FakeProcess::killed_by(SIGKILL));
  }
  pid_t pid() const override { return process_->pid; }
  bool exited() const override { return process_->ended; }
  void signal(int sig) override { process_->signal(sig); }
  void async_wait_exit(ExitHandler handler) override {
    process_->exit_handler = std::move(handler);
    process_->deliver();
  }
  void terminate_and_wait(std::chrono::milliseconds) override {
    process_->signal(SIGTERM);
    process_->signal(SIGKILL);
  }
  void release() override {
    process_->released = true;
    process_->exit_handler = nullptr;
  }

 private:
  std::shared_ptr<FakeProcess> process_;
};

class FakeLauncher final : public Launcher {
 public:
  explicit FakeLauncher(boost::asio::io_context& io) : io_(io) {}

  // Runs for every launched process before the launch returns.
  std::function<void(FakeProcess&)> on_launch;
  // The next launches fail with this error while it is set.
  std::optional<std::string> refuse;

  Result<std::unique_ptr<ChildProcess>> launch(const LaunchSpec& spec) override {
    ++attempts_;
    if (refuse) return Error{*refuse};
    auto process = std::make_shared<FakeProcess>();
    process->pid = next_pid_++;
    process->spec = spec;
    process->io = &io_;
    processes_.push_back(process);
    if (on_launch) on_launch(*process);
    return std::unique_ptr<ChildProcess>(std::make_unique<FakeChild>(process));
  }

  const std::vector<std::shared_ptr<FakeProcess>>& processes() const { return processes_; }
  FakeProcess& last() { return *processes_.back(); }
  int attempts() const { return attempts_; }
  // Processes started and not ended.
  int running() const {
    int n = 0;
    for (const auto& p : processes_) n += !p->ended;
    return n;
  }

 private:
  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<FakeProcess>> processes_;
  pid_t next_pid_ = 40000;
  int attempts_ = 0;
};

}  // namespace ergw::host::testing
