#include "lab/lab.h"

#include <signal.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <mutex>
#include <set>
#include <thread>

#include "host/process.h"
#include "lab/topology.h"
#include "lab/try.h"

namespace ergw::lab {
namespace {

// Live labs of this process, for the signal-cleanup thread.
std::mutex registry_mutex;
std::set<Lab*>& registry() {
  static std::set<Lab*> labs;
  return labs;
}

int signal_pipe[2] = {-1, -1};

// Only async-signal-safe work here: hand the signal number to the cleanup thread.
extern "C" void on_terminating_signal(int signo) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signo);
  [[maybe_unused]] const ssize_t n = write(signal_pipe[1], &byte, 1);
  errno = saved_errno;
}

void cleanup_thread() {
  unsigned char byte = 0;
  while (read(signal_pipe[0], &byte, 1) != 1) {
    if (errno != EINTR) return;
  }
  {
    std::lock_guard lock(registry_mutex);
    for (Lab* lab : registry()) {
      if (!lab->keep()) (void)lab->teardown();
    }
  }
  // End the way the signal would have ended us.
  signal(byte, SIG_DFL);
  raise(byte);
  _exit(128 + byte);
}

bool valid_custom_labid(const std::string& id) {
  if (id.empty() || id.size() > 24) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

}  // namespace

void install_signal_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (pipe2(signal_pipe, O_CLOEXEC) != 0) return;
    std::thread(cleanup_thread).detach();
    struct sigaction action {};
    action.sa_handler = on_terminating_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
  });
}

Lab::Lab(LabConfig config) : config_(std::move(config)) {
  labid_ = config_.labid.empty() ? make_labid() : config_.labid;
  state_dir_ = config_.state_root / labid_;
  if (!config_.progress) config_.progress = stderr_progress();
  owner_start_time_ = host::process_start_time(getpid()).value_or(0);
  supervisor_ = std::make_unique<Supervisor>([this] { write_record(); });
}

Result<std::unique_ptr<Lab>> Lab::create(LabConfig config) {
  if (!config.labid.empty() && !valid_custom_labid(config.labid)) {
    return Error{"lab id '" + config.labid + "': use 1-24 characters from [0-9a-z]"};
  }
  if (Status s = config.addresses.validate(); !s.ok()) return Error{s.error()};
  if (config.install_signal_handlers) install_signal_cleanup();
  std::unique_ptr<Lab> lab(new Lab(std::move(config)));
  lab->progress("[lab " + lab->labid_ + "] building in " + lab->state_dir_.string());

  for (const auto& id : cleanup_stale(lab->config_.state_root, lab->config_.progress)) {
    lab->progress("[lab " + lab->labid_ + "] removed stale lab " + id);
  }
  std::error_code ec;
  std::filesystem::create_directories(lab->config_.state_root, ec);
  if (!std::filesystem::create_directory(lab->state_dir_, ec)) {
    lab->torn_down_ = true;  // not ours: never remove it
    return Error{"lab state directory " + lab->state_dir_.string() + " exists or cannot be created" +
                 (ec ? ": " + ec.message() : "")};
  }
  // The record exists before the first namespace, so a crash from here on
  // leaves something cleanup_stale can find.
  lab->write_record();
  {
    std::lock_guard lock(registry_mutex);
    registry().insert(lab.get());
  }
  if (Status s = build_topology(lab->labid_, lab->config_.addresses, lab->config_.progress,
                                lab->config_.azure_instances); !s.ok()) {
    lab->progress("[lab " + lab->labid_ + "] build failed: " + s.error());
    return Error{s.error()};  // ~Lab tears down
  }
  lab->progress("[lab " + lab->labid_ + "] topology up");
  return lab;
}

Lab::~Lab() {
  if (!config_.keep) (void)teardown();
  {
    std::lock_guard lock(registry_mutex);
    registry().erase(this);
  }
  if (config_.keep && !torn_down_) {
    progress("[lab " + labid_ + "] kept: remove it with `ergw-lab down " + labid_ + "`");
    // Daemons stay up, but nobody restarts them once we are gone.
    supervisor_->detach_all();
  }
}

void Lab::progress(const std::string& line) const {
  if (config_.progress) config_.progress(line);
}

std::string Lab::address(Node node) const {
  switch (node) {
    case Node::onprem: return address_only(config_.addresses.onprem_host);
    case Node::appliance: return address_only(config_.addresses.appliance_wan);
    case Node::azure_gw: return address_only(config_.addresses.azure_gw_wan);
    case Node::vnet: return address_only(config_.addresses.vnet_host);
    case Node::azure_gw2: return address_only(config_.addresses.azure_gw2_wan);
  }
  return {};
}

void Lab::write_record() {
  std::lock_guard lock(record_mutex_);
  if (torn_down_) return;
  OwnerRecord record;
  record.labid = labid_;
  record.owner_pid = getpid();
  record.owner_start_time = owner_start_time_;
  record.keep = config_.keep;
  for (Node node : lab_nodes(config_.azure_instances)) record.namespaces.push_back(netns(node));
  if (supervisor_) record.daemons = supervisor_->records();
  if (Status s = write_owner_record(state_dir_, record); !s.ok()) progress("[lab " + labid_ + "] " + s.error());
}

void Lab::set_keep(bool keep) {
  config_.keep = keep;
  write_record();
}

Result<CharonInstance*> Lab::start_charon(Node node, const CharonSetup& setup) {
  if (charons_.count(node) != 0) return Error{"a charon already runs in " + std::string(node_title(node))};
  CharonOptions options;
  options.name = std::string(node_title(node));
  options.netns = netns(node);
  options.dir = state_dir_ / node_title(node);
  options.log_level = setup.log_level;
  options.subsystem_log_levels = setup.subsystem_log_levels;
  options.backend = setup.backend;
  options.ergw_ipsec_plugin_dir = setup.ergw_ipsec_plugin_dir;
  options.fastpath_socket = setup.fastpath_socket;
  options.ready_timeout = setup.ready_timeout;
  options.keep_visible = visible_under_run();
  options.staging_dir = staging_dir_for("charon-" + options.name);
  auto charon = std::make_unique<CharonInstance>(std::move(options), *supervisor_);
  progress("[lab " + labid_ + "] starting charon in " + std::string(node_title(node)) + " (vici " +
           charon->vici_uri() + ", log " + charon->log_path().string() + ")");
  if (Status s = charon->start(); !s.ok()) {
    supervisor_->stop(charon->daemon_name());
    return Error{s.error()};
  }
  progress("[lab " + labid_ + "] charon in " + std::string(node_title(node)) + " answers, pid " +
           std::to_string(charon->pid().value_or(0)));
  CharonInstance* raw = charon.get();
  charons_[node] = std::move(charon);
  return raw;
}

std::vector<std::string> Lab::visible_under_run() const {
  const std::string dir = std::filesystem::absolute(state_dir_).lexically_normal().string();
  if (dir.rfind("/run/", 0) == 0) return {dir};
  return {};
}

std::string Lab::staging_dir_for(const std::string& daemon) const {
  return (state_dir_ / (".run-" + daemon)).string();
}

CharonInstance* Lab::charon(Node node) {
  const auto it = charons_.find(node);
  return it == charons_.end() ? nullptr : it->second.get();
}

Status Lab::start_daemon(Node node, const std::string& name, std::vector<std::string> argv,
                         std::vector<std::string> extra_env, std::vector<std::string> run_dirs) {
  DaemonSpec spec;
  spec.name = name;
  spec.netns = netns(node);
  spec.argv = std::move(argv);
  spec.extra_env = std::move(extra_env);
  spec.run_dirs = std::move(run_dirs);
  spec.log = state_dir_ / (name + ".log");
  spec.keep_visible = visible_under_run();
  spec.staging_dir = staging_dir_for(name);
  progress("[lab " + labid_ + "] starting " + name + " in " + std::string(node_title(node)));
  return supervisor_->start(std::move(spec));
}

Status Lab::start_fastpath(Node node, const std::string& binary, const std::string& socket, const std::string& tun) {
  const std::string name = "fastpath-" + std::string(node_title(node));
  const std::string sequence = (state_dir_ / node_title(node) / "fastpath.seq").string();
  std::error_code ec;
  std::filesystem::create_directories(state_dir_ / node_title(node), ec);
  ERGW_LAB_TRY(start_daemon(node, name, {binary, "--control", socket, "--sequence-file", sequence, "--tun", tun}));
  // Ready when it accepts on its socket: its TUN device exists then.
  return wait_for_link(node, tun, std::chrono::seconds(10));
}

Status Lab::route_via(Node node, const std::string& prefix, const std::string& dev) {
  progress("[lab " + labid_ + "] route " + prefix + " dev " + dev + " in " + std::string(node_title(node)));
  return ip_in(netns(node), {"route", "replace", prefix, "dev", dev});
}

Status Lab::wait_for_link(Node node, const std::string& dev, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (host::run_command({"ip", "-n", netns(node), "link", "show", "dev", dev}, std::chrono::seconds(5)).ok()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error{dev + " did not appear in " + std::string(node_title(node))};
}

host::CommandResult Lab::exec(Node node, const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
  return exec_in(netns(node), argv, timeout);
}

Status Lab::teardown() {
  std::lock_guard lock(teardown_mutex_);
  if (torn_down_) return {};
  progress("[lab " + labid_ + "] tearing down");
  supervisor_->stop_all();
  {
    std::lock_guard record_lock(record_mutex_);
    torn_down_ = true;
  }
  Status first = teardown_topology(labid_);
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
  if (ec && first.ok()) first = Error{"cannot remove " + state_dir_.string() + ": " + ec.message()};
  progress("[lab " + labid_ + "] " + (first.ok() ? "gone" : "teardown: " + first.error()));
  return first;
}

}  // namespace ergw::lab
