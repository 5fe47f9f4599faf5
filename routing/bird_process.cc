#include "routing/bird_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "routing/bird_config_writer.h"

namespace ergw::routing {
namespace {

using Clock = std::chrono::steady_clock;

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace

Result<BirdProcess> BirdProcess::start(const BirdProcessOptions& options) {
  if (options.config_path.empty() || options.socket_path.empty() || options.pid_path.empty()) {
    return Error{"BIRD needs a config path, a control socket path and a pid file path"};
  }
  // A BIRD that already answers on this socket would be mistaken for ours.
  if (ControlSocket::connect(options.socket_path, std::chrono::milliseconds(1000)).ok()) {
    return Error{"another BIRD already answers on " + options.socket_path};
  }
  std::vector<std::string> args = {options.bird_binary, "-f", "-c", options.config_path,
                                   "-s", options.socket_path, "-P", options.pid_path};
  args.insert(args.end(), options.extra_arguments.begin(), options.extra_arguments.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Everything the child needs is opened before fork: after fork only
  // async-signal-safe calls are allowed (the parent may have threads).
  int netns_fd = -1;
  if (!options.network_namespace.empty()) {
    std::string path = "/run/netns/" + options.network_namespace;
    netns_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) return Error{"cannot open network namespace " + path + ": " + std::strerror(errno)};
  }
  const std::string output = options.output_path.empty() ? "/dev/null" : options.output_path;
  int output_fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (output_fd < 0 || null_fd < 0) {
    int saved = errno;
    if (netns_fd >= 0) ::close(netns_fd);
    if (output_fd >= 0) ::close(output_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Error{"cannot open " + output + ": " + std::strerror(saved)};
  }

  pid_t pid = ::fork();
  if (pid == 0) {
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) _exit(126);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(output_fd, STDOUT_FILENO);
    ::dup2(output_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  int fork_errno = errno;
  if (netns_fd >= 0) ::close(netns_fd);
  ::close(output_fd);
  ::close(null_fd);
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(fork_errno)};

  BirdProcess process(options, pid);
  const auto deadline = Clock::now() + options.start_timeout;
  std::string last_error;
  for (;;) {
    auto socket = ControlSocket::connect(options.socket_path, std::chrono::milliseconds(2000));
    if (socket.ok()) return process;
    last_error = socket.error();
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      process.pid_ = -1;
      std::string why = describe_exit(status);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 126) why += " (could not enter the network namespace)";
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127) why += " (could not run " + options.bird_binary + ")";
      return Error{"BIRD " + why + " before opening its control socket" +
                   (options.output_path.empty() ? std::string() : "; see " + options.output_path)};
    }
    if (Clock::now() >= deadline) {
      process.kill();
      return Error{"BIRD did not open its control socket in time: " + last_error};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

BirdProcess::BirdProcess(BirdProcess&& other) noexcept
    : options_(std::move(other.options_)), pid_(std::exchange(other.pid_, -1)) {}

BirdProcess& BirdProcess::operator=(BirdProcess&& other) noexcept {
  if (this != &other) {
    if (running()) (void)stop();
    options_ = std::move(other.options_);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

BirdProcess::~BirdProcess() {
  if (running()) (void)stop();
}

bool BirdProcess::reap(bool block) {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    return true;
  }
  return false;
}

bool BirdProcess::running() { return !reap(false); }

Status BirdProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return Status::success();
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (reap(false)) return Status::success();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill();
  return Error{"BIRD did not stop on SIGTERM; killed"};
}

void BirdProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

Result<ControlSocket> BirdProcess::connect(ControlSocket::Timeout timeout) const {
  return ControlSocket::connect(options_.socket_path, timeout);
}

Status install_config(ControlSocket& socket, const std::string& config_path, const std::string& text,
                      const std::optional<FileOwner>& owner) {
  const std::string candidate = config_path + ".new";
  if (auto status = write_config_file(candidate, text, owner); !status.ok()) return status;
  if (auto status = check_config(socket, candidate); !status.ok()) {
    ::unlink(candidate.c_str());
    return status;
  }
  if (::rename(candidate.c_str(), config_path.c_str()) != 0) {
    int saved = errno;
    ::unlink(candidate.c_str());
    return Error{"cannot rename " + candidate + " to " + config_path + ": " + std::strerror(saved)};
  }
  return configure(socket, config_path);
}

}  // namespace ergw::routing
