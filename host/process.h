// Starting programs: the one launcher of the project. Every child process
// ergw starts (BIRD under ergwd, the fast path, the lab's daemons, iproute2
// and the other tools) goes through spawn() here, which uses posix_spawn: safe
// in a program with threads, and the child starts with default signal
// handling whatever its parent did to its own signals.
//
//  - run_command: run to completion with the output captured and a timeout.
//    It blocks: for start-up probes, tools and tests, never inside an event
//    loop (child_process.h and supervisor.h are the asynchronous side).
//  - spawn: start in the background; the caller owns the pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ergw::host {

// Whether the child gets a process group of its own. A daemon does, so a
// terminal's ^C reaches only its owner, which then stops it in order.
enum class ProcessGroup { inherit, own };

struct LaunchSpec {
  std::vector<std::string> argv;        // argv[0] is looked up in PATH unless it holds a '/'
  std::vector<std::string> extra_env;   // "NAME=value", over this process's environment
  std::optional<std::filesystem::path> output;  // stdout and stderr appended here; else /dev/null
  ProcessGroup group = ProcessGroup::own;
};

// Starts the program in the background (stdin from /dev/null).
Result<pid_t> spawn(const LaunchSpec& spec);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or on timeout
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
  // "cmd ...: exit N: <first line of stderr>" for error messages.
  std::string describe(const std::vector<std::string>& argv) const;
};

// Runs argv and waits for it; kills it with SIGKILL after `timeout`. A
// failure to start is exit code 127 with the reason in `err`.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::vector<std::string>& extra_env = {});

// "exited with status 3" / "killed by signal 9 (Killed)".
std::string describe_wait_status(int wait_status);

// True while the process exists and is not a zombie.
bool process_alive(pid_t pid);

// Start time of a process in clock ticks since boot (/proc/PID/stat field 22);
// with the pid it identifies a process even after pid reuse.
std::optional<unsigned long long> process_start_time(pid_t pid);

// Reaps `pid` if it is our child and has exited; returns true once it is gone.
bool reap_if_exited(pid_t pid, int* wait_status = nullptr);

// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL.
// Reaps it if it is our child. Blocking: for tools, tests and the lab's
// teardown. Only ever pass pids this program started or found inside its own
// namespaces.
void terminate_process(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(3));

}  // namespace ergw::host
