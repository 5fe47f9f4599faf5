#include "tests/vici/lab_charon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ergw::vici::lab {

namespace {

constexpr const char* kCharon = "/usr/lib/ipsec/charon";

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// Waits up to `limit` for the child; returns true once reaped.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || done < 0) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

int run(const std::vector<std::string>& args, std::string* output) {
  int pipe_fds[2] = {-1, -1};
  if (output != nullptr && ::pipe(pipe_fds) != 0) return -1;
  std::vector<char*> argv = to_argv(args);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int out = output != nullptr ? pipe_fds[1] : ::open("/dev/null", O_WRONLY);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  if (output != nullptr) {
    ::close(pipe_fds[1]);
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
      output->append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string missing_prerequisite() {
  if (::geteuid() != 0) return "needs root (network namespaces, charon)";
  if (::access(kCharon, X_OK) != 0) return std::string(kCharon) + " is not installed";
  if (run({"ip", "-V"}) != 0) return "iproute2 (ip) is not installed";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    return "/dev/net/tun is missing (kernel-libipsec needs TUN)";
  }
  return {};
}

TempDir::TempDir() {
  std::string templ = "/tmp/ergw-vici-lab-" + std::to_string(::getpid()) + "-XXXXXX";
  if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
}

TempDir::~TempDir() {
  // ERGW_LAB_KEEP=1 keeps configs and charon logs for a post-mortem.
  if (path_.empty() || std::getenv("ERGW_LAB_KEEP") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

NamespacePair::NamespacePair(const std::string& tag) {
  const std::string base = "ergw-vici-" + std::to_string(::getpid()) + "-" + tag;
  a_ = base + "-a";
  b_ = base + "-b";
  // veth names are limited to 15 characters.
  const std::string veth_a = "ev" + std::to_string(::getpid() % 100000) + tag.substr(0, 2) + "a";
  const std::string veth_b = veth_a.substr(0, veth_a.size() - 1) + "b";
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", a_},
      {"ip", "netns", "add", b_},
      {"ip", "-n", a_, "link", "add", veth_a, "type", "veth", "peer", "name", veth_b, "netns", b_},
      {"ip", "-n", a_, "addr", "add", "192.0.2.1/24", "dev", veth_a},
      {"ip", "-n", b_, "addr", "add", "192.0.2.2/24", "dev", veth_b},
      {"ip", "-n", a_, "link", "set", veth_a, "up"},
      {"ip", "-n", b_, "link", "set", veth_b, "up"},
      {"ip", "-n", a_, "link", "set", "lo", "up"},
      {"ip", "-n", b_, "link", "set", "lo", "up"},
      // An inside address per side, within its traffic selector, so charon
      // (kernel-libipsec) finds a source address for the routes it installs.
      {"ip", "-n", a_, "addr", "add", "10.10.1.1/32", "dev", "lo"},
      {"ip", "-n", b_, "addr", "add", "10.10.2.1/32", "dev", "lo"},
  };
  for (const auto& step : steps) {
    std::string output;
    if (run(step, &output) != 0) {
      error_ = "'";
      for (const auto& arg : step) error_ += arg + " ";
      error_ += "' failed: " + output;
      return;
    }
  }
  ok_ = true;
}

NamespacePair::~NamespacePair() {
  // Deleting a namespace also removes the veth pair inside it.
  run({"ip", "netns", "del", a_});
  run({"ip", "netns", "del", b_});
}

Charon::Charon(std::string netns, std::string dir, std::string name, std::string settings)
    : netns_(std::move(netns)),
      dir_(std::move(dir)),
      conf_path_(dir_ + "/" + name + ".conf"),
      socket_path_(dir_ + "/" + name + ".vici"),
      log_path_(dir_ + "/" + name + ".log") {
  std::ofstream conf(conf_path_);
  // The plugin list the lab uses (docs/lab.md): userspace ESP via
  // kernel-libipsec, since this kernel has no ESP.
  conf << "charon {\n"
          "  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf aes"
          " sha1 sha2 hmac gcm kernel-libipsec kernel-netlink socket-default vici updown\n"
          "  filelog {\n"
          "    lab {\n"
          "      path = " << log_path_ << "\n"
          "      default = 1\n"
          "      append = yes\n"
          "      flush_line = yes\n"
          "    }\n"
          "  }\n"
       << settings << "\n"
          "  plugins {\n"
          "    vici {\n"
          "      socket = unix://" << socket_path_ << "\n"
          "    }\n"
          "  }\n"
          "}\n";
}

Charon::~Charon() { stop(); }

void Charon::start() {
  if (pid_ > 0) return;
  // A private /run (tmpfs in a private mount namespace) keeps charon's pid file
  // away from the host's; sh execs charon, so the pid we get is charon's.
  const std::string script = "mount -t tmpfs none /run && mkdir -p /run/strongswan && "
                             "STRONGSWAN_CONF=" + conf_path_ + " exec " + kCharon;
  std::vector<std::string> args = {"ip", "netns", "exec", netns_, "unshare", "-m",
                                   "sh", "-c", script};
  std::vector<char*> argv = to_argv(args);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return;
  if (pid == 0) {
    // Dies with the test process, whatever kills it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int out = ::open((dir_ + "/stdout.txt").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
}

void Charon::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

void Charon::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!wait_for_exit(pid_, std::chrono::seconds(5))) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
}

std::string Charon::log_tail(std::size_t lines) const {
  std::ifstream log(log_path_);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(log, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& l : tail) out += l + "\n";
  return out;
}

}  // namespace ergw::vici::lab
