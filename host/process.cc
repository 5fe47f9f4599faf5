#include "host/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ergw::host {
namespace {

using SteadyClock = std::chrono::steady_clock;

// argv/envp as the char* arrays posix_spawn wants; built before spawning.
class CStrings {
 public:
  explicit CStrings(const std::vector<std::string>& strings) : storage_(strings) {
    for (auto& s : storage_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char** data() { return pointers_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
};

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& x : extra) {
      if (x.substr(0, x.find('=')) == name) overridden = true;
    }
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// posix_spawn's attributes and file actions, released on every path.
class SpawnSetup {
 public:
  explicit SpawnSetup(ProcessGroup group) {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
    // Children start with default signal handling and nothing blocked,
    // whatever the owner did to its own signals.
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (group == ProcessGroup::own) {
      flags |= POSIX_SPAWN_SETPGROUP;
      posix_spawnattr_setpgroup(&attr_, 0);
    }
    posix_spawnattr_setflags(&attr_, flags);
    posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t* actions() { return &actions_; }

  Result<pid_t> run(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
    if (argv.empty() || argv.front().empty()) return Error{"nothing to run: empty command line"};
    CStrings args(argv);
    CStrings env(environment_with(extra_env));
    // Last action: the child keeps stdin/stdout/stderr and nothing else. Our
    // sockets (Asio opens them without SOCK_CLOEXEC) must not outlive us in a
    // daemon: a fast path holding ergwd's vici connection or listening socket
    // would keep them open after ergwd died.
    posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argv.front().c_str(), &actions_, &attr_, args.data(), env.data());
    if (rc != 0) return Error{"could not run " + argv.front() + ": " + std::strerror(rc)};
    return pid;
  }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

void read_available(int fd, std::string& into, bool& open) {
  char buffer[8192];
  const ssize_t n = read(fd, buffer, sizeof buffer);
  if (n > 0) {
    into.append(buffer, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

// Reads both pipes until they close or the deadline passes.
void collect_output(int out_fd, int err_fd, SteadyClock::time_point deadline, CommandResult& result, pid_t pid) {
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      return;
    }
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (n < 0 && errno != EINTR) return;
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) read_available(out_fd, result.out, out_open);
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) read_available(err_fd, result.err, err_open);
  }
}

}  // namespace

Result<pid_t> spawn(const LaunchSpec& spec) {
  SpawnSetup setup(spec.group);
  const std::string output = spec.output ? spec.output->string() : "/dev/null";
  posix_spawn_file_actions_addopen(setup.actions(), STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0640);
  posix_spawn_file_actions_adddup2(setup.actions(), STDOUT_FILENO, STDERR_FILENO);
  auto pid = setup.run(spec.argv, spec.extra_env);
  if (!pid && spec.output) return Error{pid.error() + " (output to " + output + ")"};
  return pid;
}

std::string CommandResult::describe(const std::vector<std::string>& argv) const {
  std::string text;
  for (const auto& a : argv) {
    if (!text.empty()) text += ' ';
    text += a;
  }
  if (timed_out) return text + ": timed out";
  std::string first_line = err.substr(0, err.find('\n'));
  if (first_line.empty()) first_line = out.substr(0, out.find('\n'));
  return text + ": exit " + std::to_string(exit_code) + (first_line.empty() ? "" : ": " + first_line);
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::vector<std::string>& extra_env) {
  CommandResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.exit_code = 127;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    result.exit_code = 127;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  Result<pid_t> pid = Error{""};
  {
    SpawnSetup setup(ProcessGroup::inherit);
    posix_spawn_file_actions_adddup2(setup.actions(), out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(setup.actions(), err_pipe[1], STDERR_FILENO);
    pid = setup.run(argv, extra_env);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!pid) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.exit_code = 127;
    result.err = pid.error();
    return result;
  }
  collect_output(out_pipe[0], err_pipe[0], SteadyClock::now() + timeout, result, *pid);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = (!result.timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status)) return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "stopped";
}

std::optional<unsigned long long> process_start_time(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may contain spaces and ')'; fields resume after the last ')'.
  const auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close_paren + 2));
  std::string field;
  // rest starts at field 3 (state); field 22 is starttime.
  for (int index = 3; index <= 22; ++index) {
    if (!(rest >> field)) return std::nullopt;
  }
  try {
    return std::stoull(field);
  } catch (...) {
    return std::nullopt;
  }
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] != 'Z' &&
         line[close_paren + 2] != 'X';
}

bool reap_if_exited(pid_t pid, int* wait_status) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    if (wait_status != nullptr) *wait_status = status;
    return true;
  }
  if (r < 0 && errno == ECHILD) return !process_alive(pid);  // not our child
  return false;
}

void terminate_process(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  if (reap_if_exited(pid)) return;
  kill(pid, SIGTERM);
  const auto deadline = SteadyClock::now() + grace;
  while (SteadyClock::now() < deadline) {
    if (reap_if_exited(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  const auto kill_deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (SteadyClock::now() < kill_deadline) {
    if (reap_if_exited(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ergw::host
