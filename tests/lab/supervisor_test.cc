// The supervisor on plain processes (no namespaces, no root): restart after a
// kill, backoff, stop.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "host/process.h"
#include "lab/supervisor.h"

namespace ergw::lab {
namespace {

using namespace std::chrono_literals;

DaemonSpec sleeper(const std::filesystem::path& log) {
  DaemonSpec spec;
  spec.name = "sleeper";
  spec.argv = {"sleep", "60"};
  spec.private_run = false;
  spec.log = log;
  return spec;
}

std::filesystem::path temp_log(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("ergw-lab-" + name + "-" + std::to_string(getpid()) + ".log");
}

TEST(LabSupervisor, RestartsAKilledDaemon) {
  const auto log = temp_log("restart");
  std::atomic<int> changes{0};
  Supervisor supervisor([&] { ++changes; }, host::Backoff{50ms, 400ms, 10s});
  ASSERT_TRUE(supervisor.start(sleeper(log)).ok());
  const auto first = supervisor.pid("sleeper");
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(host::process_alive(*first));

  auto killed = supervisor.kill_daemon("sleeper", SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed.error();
  EXPECT_EQ(killed.value(), *first);
  const auto second = supervisor.wait_for_restart("sleeper", *first, 10s);
  ASSERT_TRUE(second.has_value()) << "not restarted";
  EXPECT_NE(*second, *first);
  EXPECT_TRUE(host::process_alive(*second));
  EXPECT_EQ(supervisor.restarts("sleeper"), 1);
  EXPECT_GE(changes.load(), 3);  // start, exit, restart

  supervisor.stop("sleeper");
  EXPECT_FALSE(supervisor.pid("sleeper").has_value());
  EXPECT_FALSE(host::process_alive(*second));

  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("killed by signal 9"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("restarting in 50 ms"), std::string::npos) << text.str();
  std::filesystem::remove(log);
}

TEST(LabSupervisor, UnsupervisedDaemonStaysDead) {
  const auto log = temp_log("unsupervised");
  Supervisor supervisor({}, host::Backoff{20ms, 100ms, 10s});
  ASSERT_TRUE(supervisor.start(sleeper(log)).ok());
  const pid_t pid = supervisor.pid("sleeper").value();
  supervisor.unsupervise("sleeper");
  ASSERT_TRUE(supervisor.kill_daemon("sleeper", SIGTERM).ok());
  EXPECT_FALSE(supervisor.wait_for_restart("sleeper", pid, 500ms).has_value());
  EXPECT_EQ(supervisor.restarts("sleeper"), 0);
  std::filesystem::remove(log);
}

TEST(LabSupervisor, BackoffGrowsWhileTheDaemonKeepsFailing) {
  const auto log = temp_log("backoff");
  Supervisor supervisor({}, host::Backoff{20ms, 80ms, 10s});
  DaemonSpec spec = sleeper(log);
  spec.argv = {"false"};
  ASSERT_TRUE(supervisor.start(spec).ok());
  // Wait until it has been restarted a few times, whatever the timing.
  for (int i = 0; i < 200 && supervisor.restarts("sleeper") < 4; ++i) std::this_thread::sleep_for(20ms);
  supervisor.stop_all();
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  for (const char* step : {"restarting in 20 ms", "restarting in 40 ms", "restarting in 80 ms"}) {
    EXPECT_NE(text.str().find(step), std::string::npos) << step << "\n" << text.str();
  }
  EXPECT_EQ(text.str().find("restarting in 160 ms"), std::string::npos) << "backoff exceeded its maximum";
  std::filesystem::remove(log);
}

TEST(LabSupervisor, RefusesDuplicateNamesAndForeignVisiblePaths) {
  Supervisor supervisor;
  DaemonSpec spec = sleeper(temp_log("dup"));
  ASSERT_TRUE(supervisor.start(spec).ok());
  EXPECT_FALSE(supervisor.start(spec).ok());
  DaemonSpec other = spec;
  other.name = "other";
  other.keep_visible = {"/etc"};
  EXPECT_FALSE(supervisor.start(other).ok());
  supervisor.stop_all();
  std::filesystem::remove(temp_log("dup"));
}

}  // namespace
}  // namespace ergw::lab
