// Child processes for the lab: run a command to completion (output captured,
// bounded by a timeout) or spawn one in the background with its output in a
// log file. Both use posix_spawn, so they are safe to call from a program with
// threads (the supervisor runs one).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ergw::lab {

struct CommandResult {
  int exit_code = -1;       // -1 when killed by a signal or on timeout
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
  // "cmd ...: exit N: <first line of stderr>" for error messages.
  std::string describe(const std::vector<std::string>& argv) const;
};

struct SpawnOptions {
  std::vector<std::string> extra_env;       // "NAME=value", added to this process's environment
  std::optional<std::filesystem::path> log; // stdout+stderr appended here; /dev/null if unset
};

// Runs argv (argv[0] looked up in PATH) and waits for it; kills it with SIGKILL
// after `timeout`. A failure to start is reported as exit code 127.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::vector<std::string>& extra_env = {});

// Starts argv in the background in its own process group (so a terminal's ^C
// reaches only the owner, which then tears down in order) and returns its pid.
Result<pid_t> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options);

// True while the process exists and is not a zombie.
bool process_alive(pid_t pid);

// Start time of a process in clock ticks since boot (/proc/PID/stat field 22);
// with the pid it identifies a process even after pid reuse.
std::optional<unsigned long long> process_start_time(pid_t pid);

// Reaps `pid` if it is our child and has exited; returns true once it is gone.
bool reap_if_exited(pid_t pid, int* wait_status = nullptr);

// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL.
// Reaps it if it is our child. Only ever pass pids this program started or
// found inside its own namespaces.
void terminate_process(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(3));

// "exited with status 3" / "killed by signal 9 (Killed)".
std::string describe_wait_status(int wait_status);

}  // namespace ergw::lab
