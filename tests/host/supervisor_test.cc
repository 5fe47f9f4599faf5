// host::Supervisor: restart with backoff, stop with a grace period, launch
// failures, detach; first against fake processes on a fake clock (exact,
// instant), then against real processes (exits reported through pidfds).
#include "host/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include "tests/common/fake_clock.h"
#include "tests/host/fake_launcher.h"

namespace ergw::host {
namespace {

using namespace std::chrono_literals;
using testing::FakeLauncher;
using testing::FakeProcess;

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : clock_(io_), launcher_(io_), supervisor_(io_.get_executor(), clock_, launcher_) {
    supervisor_.on_event([this](const ServiceEvent& e) { events_.push_back(e); });
  }

  ServiceSpec spec(const std::string& name, Restart restart = Restart::always) {
    ServiceSpec s;
    s.name = name;
    s.launch.argv = {"/usr/sbin/daemon", name};
    s.restart = restart;
    s.backoff = Backoff{100ms, 400ms, 1000ms};
    return s;
  }

  std::vector<ServiceEvent::Kind> kinds() const {
    std::vector<ServiceEvent::Kind> out;
    for (const auto& e : events_) out.push_back(e.kind);
    return out;
  }

  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_;
  FakeLauncher launcher_;
  Supervisor supervisor_;
  std::vector<ServiceEvent> events_;
};

TEST_F(SupervisorTest, RestartsWithBackoffThatDoublesAndResetsAfterAGoodRun) {
  auto pid = supervisor_.start(spec("d"));
  ASSERT_TRUE(pid.ok()) << pid.error();
  clock_.settle();
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, ServiceEvent::Kind::started);
  EXPECT_EQ(events_[0].pid, *pid);

  // Three quick crashes: 100, 200, 400 ms, then the ceiling.
  const std::vector<std::chrono::milliseconds> expected = {100ms, 200ms, 400ms, 400ms};
  for (auto delay : expected) {
    launcher_.last().end(FakeProcess::exited_with(1));
    clock_.settle();
    ASSERT_EQ(events_.back().kind, ServiceEvent::Kind::exited);
    EXPECT_EQ(events_.back().exit->describe(), "exited with status 1");
    ASSERT_TRUE(events_.back().restart_in);
    EXPECT_EQ(*events_.back().restart_in, delay);
    EXPECT_FALSE(supervisor_.pid("d"));
    clock_.advance(delay - 1ms);
    EXPECT_EQ(launcher_.running(), 0) << "restarted before its backoff";
    clock_.advance(1ms);
    EXPECT_EQ(launcher_.running(), 1);
    EXPECT_EQ(events_.back().kind, ServiceEvent::Kind::started);
  }
  EXPECT_EQ(supervisor_.restarts("d"), 4u);

  // A run longer than reset_after starts the backoff short again.
  clock_.advance(1500ms);
  launcher_.last().end(FakeProcess::killed_by(SIGSEGV));
  clock_.settle();
  EXPECT_EQ(*events_.back().restart_in, 100ms);
  EXPECT_NE(events_.back().exit->describe().find("killed by signal 11"), std::string::npos);
}

TEST_F(SupervisorTest, NeverRestartLeavesItDown) {
  ASSERT_TRUE(supervisor_.start(spec("once", Restart::never)).ok());
  launcher_.last().end(FakeProcess::exited_with(0));
  clock_.advance(10s);
  EXPECT_EQ(launcher_.attempts(), 1);
  EXPECT_FALSE(events_.back().restart_in);
  EXPECT_TRUE(supervisor_.contains("once"));
  EXPECT_FALSE(supervisor_.pid("once"));
}

TEST_F(SupervisorTest, FailedRestartIsReportedAndRetried) {
  ASSERT_TRUE(supervisor_.start(spec("d")).ok());
  launcher_.refuse = "could not run /usr/sbin/daemon: No such file or directory";
  launcher_.last().end(FakeProcess::exited_with(1));
  clock_.advance(100ms);
  ASSERT_EQ(events_.back().kind, ServiceEvent::Kind::start_failed);
  EXPECT_EQ(events_.back().error, *launcher_.refuse);
  EXPECT_EQ(*events_.back().restart_in, 200ms);
  launcher_.refuse.reset();
  clock_.advance(200ms);
  EXPECT_EQ(events_.back().kind, ServiceEvent::Kind::started);
  EXPECT_EQ(launcher_.running(), 1);
}

TEST_F(SupervisorTest, FirstLaunchFailureIsAnErrorAndNothingIsSupervised) {
  launcher_.refuse = "could not run /usr/sbin/daemon: Permission denied";
  auto pid = supervisor_.start(spec("d"));
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().find("Permission denied"), std::string::npos);
  EXPECT_FALSE(supervisor_.contains("d"));
  clock_.advance(10s);
  EXPECT_TRUE(events_.empty());
}

TEST_F(SupervisorTest, StopSendsSigtermThenSigkillAfterTheGraceAndNeverRestarts) {
  ASSERT_TRUE(supervisor_.start(spec("stubborn")).ok());
  launcher_.last().ignores_sigterm = true;
  bool done = false;
  supervisor_.stop("stubborn", 3s, [&] { done = true; });
  clock_.settle();
  EXPECT_EQ(launcher_.last().signals, (std::vector<int>{SIGTERM}));
  EXPECT_FALSE(done) << "stop() must not wait for the exit";
  EXPECT_FALSE(supervisor_.contains("stubborn"));
  clock_.advance(2999ms);
  EXPECT_FALSE(done);
  clock_.advance(1ms);
  EXPECT_EQ(launcher_.last().signals, (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_TRUE(done);
  clock_.advance(10s);
  EXPECT_EQ(launcher_.attempts(), 1);

  // A name may be started again at once, even before the old one has gone.
  ASSERT_TRUE(supervisor_.start(spec("polite")).ok());
  supervisor_.stop("polite", 3s);
  ASSERT_TRUE(supervisor_.start(spec("polite")).ok());
  clock_.settle();
  EXPECT_EQ(launcher_.running(), 1);
  EXPECT_TRUE(supervisor_.pid("polite"));
}

TEST_F(SupervisorTest, StopOfADaemonWaitingForItsRestartCancelsIt) {
  ASSERT_TRUE(supervisor_.start(spec("d")).ok());
  launcher_.last().end(FakeProcess::exited_with(1));
  clock_.settle();
  bool done = false;
  supervisor_.stop("d", 1s, [&] { done = true; });
  clock_.advance(5s);
  EXPECT_TRUE(done);
  EXPECT_EQ(launcher_.attempts(), 1);
}

TEST_F(SupervisorTest, DuplicateNamesAreRefusedAndSignalsReachTheDaemon) {
  ASSERT_TRUE(supervisor_.start(spec("d")).ok());
  EXPECT_FALSE(supervisor_.start(spec("d")).ok());
  auto pid = supervisor_.signal("d", SIGHUP);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(launcher_.last().signals, (std::vector<int>{SIGHUP}));
  EXPECT_FALSE(supervisor_.signal("nobody", SIGHUP).ok());
}

TEST_F(SupervisorTest, DetachedDaemonsRunOn) {
  ASSERT_TRUE(supervisor_.start(spec("kept")).ok());
  supervisor_.detach_all();
  EXPECT_FALSE(supervisor_.contains("kept"));
  EXPECT_FALSE(launcher_.last().ended);
  EXPECT_TRUE(launcher_.last().released);
}

// Real processes: their exits arrive through pidfds without any polling.
class RealSupervisorTest : public ::testing::Test {
 protected:
  RealSupervisorTest()
      : clock_(make_steady_clock(io_.get_executor())),
        launcher_(make_process_launcher(io_.get_executor())),
        supervisor_(io_.get_executor(), *clock_, *launcher_) {
    supervisor_.on_event([this](const ServiceEvent& e) { events_.push_back(e); });
  }

  // Runs the loop until `predicate` holds; the bound only keeps a broken
  // build from hanging, it is no assertion on time.
  bool run_until(const std::function<bool()>& predicate) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!predicate() && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
    return predicate();
  }

  boost::asio::io_context io_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Launcher> launcher_;
  Supervisor supervisor_;
  std::vector<ServiceEvent> events_;
};

TEST_F(RealSupervisorTest, KilledDaemonIsRestartedWithANewPid) {
  ServiceSpec s;
  s.name = "sleeper";
  s.launch.argv = {"sleep", "60"};
  s.backoff = Backoff{20ms, 100ms, 10s};
  auto first = supervisor_.start(s);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(process_alive(*first));
  ASSERT_EQ(::kill(*first, SIGKILL), 0);
  ASSERT_TRUE(run_until([&] { return supervisor_.restarts("sleeper") == 1; }));
  auto second = supervisor_.pid("sleeper");
  ASSERT_TRUE(second);
  EXPECT_NE(*second, *first);
  EXPECT_FALSE(process_alive(*first)) << "the killed daemon was not reaped";
  bool exited_seen = false;
  for (const auto& e : events_) {
    if (e.kind == ServiceEvent::Kind::exited && e.pid == *first) {
      exited_seen = true;
      EXPECT_EQ(e.exit->describe(), "killed by signal 9 (Killed)");
    }
  }
  EXPECT_TRUE(exited_seen);

  bool stopped = false;
  supervisor_.stop("sleeper", 2s, [&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_FALSE(process_alive(*second));
}

TEST_F(RealSupervisorTest, MissingProgramIsAStartError) {
  ServiceSpec s;
  s.name = "missing";
  s.launch.argv = {"/nonexistent/ergw-daemon"};
  auto pid = supervisor_.start(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().find("could not run /nonexistent/ergw-daemon"), std::string::npos) << pid.error();
}

TEST_F(RealSupervisorTest, DestructionEndsTheDaemons) {
  pid_t pid = 0;
  {
    boost::asio::io_context io;
    auto clock = make_steady_clock(io.get_executor());
    auto launcher = make_process_launcher(io.get_executor());
    Supervisor supervisor(io.get_executor(), *clock, *launcher);
    ServiceSpec s;
    s.name = "sleeper";
    s.launch.argv = {"sleep", "60"};
    auto started = supervisor.start(s);
    ASSERT_TRUE(started.ok());
    pid = *started;
  }
  EXPECT_FALSE(process_alive(pid));
}

}  // namespace
}  // namespace ergw::host
