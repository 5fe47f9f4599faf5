// The launcher: run_command captures output, exit code and timeouts; spawn
// starts in the background with output to a file, own process group and
// extra environment; ChildProcess reports an exit on the event loop.
#include "host/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "host/child_process.h"

namespace ergw::host {
namespace {

using namespace std::chrono_literals;

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("ergw-host-" + name + "-" + std::to_string(getpid()));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RunCommand, CapturesOutputExitCodeAndTimeout) {
  const auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.describe({"sh", "-c", "x"}), "sh -c x: exit 3: err");
  const auto slow = run_command({"sleep", "10"}, 200ms);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_FALSE(slow.ok());
  const auto missing = run_command({"/nonexistent/ergw-tool"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("No such file or directory"), std::string::npos) << missing.err;
  EXPECT_EQ(run_command({"sh", "-c", "echo $ERGW_TEST_VALUE"}, 5s, {"ERGW_TEST_VALUE=42"}).out, "42\n");
}

TEST(Spawn, OutputGoesToTheFileAndTheChildLeadsItsOwnGroup) {
  const auto log = temp_file("spawn.log");
  std::filesystem::remove(log);
  LaunchSpec spec;
  spec.argv = {"sh", "-c", "echo to-stdout; echo to-stderr >&2; echo pgid=$(ps -o pgid= $$ | tr -d ' ')"};
  spec.output = log;
  auto pid = spawn(spec);
  ASSERT_TRUE(pid.ok()) << pid.error();
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(describe_wait_status(status), "exited with status 0");
  const std::string out = read_file(log);
  EXPECT_NE(out.find("to-stdout"), std::string::npos) << out;
  EXPECT_NE(out.find("to-stderr"), std::string::npos) << out;
  EXPECT_NE(out.find("pgid=" + std::to_string(*pid)), std::string::npos) << out;
  std::filesystem::remove(log);
}

TEST(Spawn, TheChildInheritsNoDescriptorButStdinStdoutAndStderr) {
  // A descriptor without FD_CLOEXEC, as Asio opens its sockets, at a number
  // the child would not take for itself.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::dup2(pipe_fds[0], 100), 100);
  const auto r = run_command({"ls", "/proc/self/fd"});
  for (int fd : {pipe_fds[0], pipe_fds[1], 100}) ::close(fd);
  ASSERT_TRUE(r.ok()) << r.err;
  // 0, 1, 2 and the descriptor ls reads the directory with.
  std::istringstream listed(r.out);
  std::vector<std::string> fds;
  for (std::string fd; listed >> fd;) fds.push_back(fd);
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"})) << r.out;
}

TEST(Spawn, MissingProgramIsAnError) {
  LaunchSpec spec;
  spec.argv = {"/nonexistent/ergw-daemon"};
  auto pid = spawn(spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().find("could not run /nonexistent/ergw-daemon"), std::string::npos) << pid.error();
  spec.argv.clear();
  EXPECT_FALSE(spawn(spec).ok());
}

TEST(ChildProcess, ExitIsReportedOnTheLoopAndSignalsReachTheChild) {
  boost::asio::io_context io;
  auto launcher = make_process_launcher(io.get_executor());
  LaunchSpec spec;
  spec.argv = {"sleep", "60"};
  auto child = launcher->launch(spec);
  ASSERT_TRUE(child.ok()) << child.error();
  std::optional<ExitStatus> exit;
  (*child)->async_wait_exit([&](ExitStatus s) { exit = s; });
  io.run_for(50ms);
  EXPECT_FALSE(exit) << "reported an exit of a running child";
  EXPECT_FALSE((*child)->exited());
  const pid_t pid = (*child)->pid();
  (*child)->signal(SIGTERM);
  // Bounded only so a broken build cannot hang; no assertion on time.
  for (int i = 0; i < 2000 && !exit; ++i) io.run_for(10ms);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->describe(), "killed by signal 15 (Terminated)");
  EXPECT_TRUE((*child)->exited());
  EXPECT_FALSE(process_alive(pid)) << "the child was not reaped";
  // Signals after the exit go nowhere (the pid may belong to someone else now).
  (*child)->signal(SIGKILL);
}

TEST(ChildProcess, DestroyingARunningChildEndsIt) {
  boost::asio::io_context io;
  auto launcher = make_process_launcher(io.get_executor());
  LaunchSpec spec;
  spec.argv = {"sleep", "60"};
  pid_t pid = 0;
  {
    auto child = launcher->launch(spec);
    ASSERT_TRUE(child.ok());
    pid = (*child)->pid();
    EXPECT_TRUE(process_alive(pid));
  }
  EXPECT_FALSE(process_alive(pid));
}

TEST(ChildProcess, TerminateAndWaitEscalatesToSigkill) {
  boost::asio::io_context io;
  auto launcher = make_process_launcher(io.get_executor());
  LaunchSpec spec;
  spec.argv = {"sh", "-c", "trap '' TERM; exec sleep 60"};
  auto child = launcher->launch(spec);
  ASSERT_TRUE(child.ok());
  const pid_t pid = (*child)->pid();
  // Let the shell install its trap before the signal arrives.
  for (int i = 0; i < 100; ++i) {
    if (read_file("/proc/" + std::to_string(pid) + "/status").find("SigIgn:\t0000000000004000") != std::string::npos) break;
    io.run_for(10ms);
  }
  (*child)->terminate_and_wait(200ms);
  EXPECT_TRUE((*child)->exited());
  EXPECT_FALSE(process_alive(pid));
}

TEST(ProcessInfo, StartTimeIdentifiesAProcess) {
  EXPECT_TRUE(process_alive(getpid()));
  EXPECT_TRUE(process_start_time(getpid()).has_value());
  EXPECT_FALSE(process_start_time(0).has_value());
}

}  // namespace
}  // namespace ergw::host
