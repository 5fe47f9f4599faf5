// The lab: ergw's one-command demo and the bed of every integration test.
// Four namespaces (onprem-host, appliance, azure-gw, vnet-host; see
// topology.h), a state directory /run/ergw-lab/<labid>/ with an owner record,
// daemons under a supervisor, and cleanup on every exit path:
//   - the destructor (unless kept),
//   - SIGINT/SIGTERM in the owning program (install_signal_cleanup),
//   - cleanup_stale() for labs whose owner died (lab_state.h).
//
//   auto lab = ergw::lab::Lab::create({});
//   auto* appliance = lab.value()->start_charon(Node::appliance);
//   ...
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "lab/charon_instance.h"
#include "lab/lab_config.h"
#include "lab/lab_state.h"
#include "lab/netns.h"
#include "lab/supervisor.h"

namespace ergw::lab {

class Lab {
 public:
  // Removes stale labs, writes the owner record, builds the topology. On any
  // failure whatever was built is torn down again.
  static Result<std::unique_ptr<Lab>> create(LabConfig config);
  ~Lab();  // teardown() unless keep
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::string& id() const { return labid_; }
  std::string netns(Node node) const { return netns_name(labid_, node); }
  const LabAddresses& addresses() const { return config_.addresses; }
  // Address of a node's interface: onprem-host/vnet-host their only one, the
  // gateways their WAN (peering) side.
  std::string address(Node node) const;
  const std::filesystem::path& state_dir() const { return state_dir_; }
  Supervisor& supervisor() { return *supervisor_; }
  void progress(const std::string& line) const;

  // A charon for `node` (normally appliance or azure-gw), started and ready,
  // with the given ESP backend (CharonOptions; ergw_ipsec needs the plugin's
  // directory and the fast path's socket).
  struct CharonSetup {
    int log_level = 1;
    std::map<std::string, int> subsystem_log_levels;  // CharonOptions
    CharonBackend backend = CharonBackend::libipsec;
    std::string ergw_ipsec_plugin_dir;
    std::string fastpath_socket;
    std::chrono::milliseconds ready_timeout{15000};  // until vici answers (CharonOptions)
  };
  Result<CharonInstance*> start_charon(Node node, const CharonSetup& setup);
  Result<CharonInstance*> start_charon(Node node) { return start_charon(node, CharonSetup{}); }
  CharonInstance* charon(Node node);

  // Any daemon in a node's namespace with a private /run, supervised, its
  // output in <state>/<name>.log.
  Status start_daemon(Node node, const std::string& name, std::vector<std::string> argv,
                      std::vector<std::string> extra_env = {}, std::vector<std::string> run_dirs = {});
  // ergw-fastpath in a node's namespace (supervised, log <state>/<name>.log),
  // waited for until it runs: for a gateway whose charon carries its SAs
  // through the ergw-ipsec plugin without an ergwd (the simulated Azure side).
  Status start_fastpath(Node node, const std::string& binary, const std::string& socket, const std::string& tun);

  // `ip -n NS route replace PREFIX dev DEV`: the caller's routes into the tunnel.
  Status route_via(Node node, const std::string& prefix, const std::string& dev = kLibipsecTun);
  // Waits until a device exists in the node's namespace (ipsec0 appears when
  // charon starts and vanishes with it).
  Status wait_for_link(Node node, const std::string& dev, std::chrono::milliseconds timeout) const;
  host::CommandResult exec(Node node, const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // Keep the lab after the owner ends (`--keep`): the record says so and
  // cleanup_stale leaves it; teardown_lab(labid) removes it.
  void set_keep(bool keep);
  bool keep() const { return config_.keep; }

  // Stops daemons, deletes namespaces, removes the state directory. Safe to
  // call more than once and from the signal-cleanup thread.
  Status teardown();

 private:
  explicit Lab(LabConfig config);
  void write_record();
  // keep_visible/staging_dir for a daemon's private /run (lab state in /run).
  std::vector<std::string> visible_under_run() const;
  std::string staging_dir_for(const std::string& daemon) const;

  LabConfig config_;
  std::string labid_;
  std::filesystem::path state_dir_;
  unsigned long long owner_start_time_ = 0;
  std::unique_ptr<Supervisor> supervisor_;
  std::map<Node, std::unique_ptr<CharonInstance>> charons_;
  std::mutex record_mutex_;    // owner record writes (supervisor thread and ours)
  std::mutex teardown_mutex_;  // teardown from the destructor or the signal thread
  std::atomic<bool> torn_down_{false};
};

// Installs SIGINT/SIGTERM handlers (once per process) that tear down every
// live lab of this process, then end it with the same signal. Lab::create
// calls this unless LabConfig::install_signal_handlers is false.
void install_signal_cleanup();

}  // namespace ergw::lab
