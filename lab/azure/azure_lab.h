// AzureLab: the lab running the product. The appliance namespace runs charon
// and ergwd with an ergw configuration; the azure-gw namespace runs the
// simulated Azure VPN gateway - a charon configured by the lab's own model of
// Azure (azure_gateway.h) from the same Azure connections (each further one on
// an address and with a VNet of its own), and a BIRD when the first connection
// enables BGP (azure_bird.h); hosts on both sides exchange traffic. An
// active-active connection (two tunnel addresses) gets a second instance in a
// namespace of its own (azure-gw-2): its own charon, /run, vici socket and
// BIRD, as each of Azure's instances is a separate IKE and BGP peer.
// `ergw lab` and the tunnel integration tests are built on it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "lab/azure/azure_bird.h"
#include "lab/azure/azure_gateway.h"
#include "lab/lab.h"
#include "gateway/policy/azure_connection.h"

namespace ergw::azure_lab {

struct AzureLabOptions {
  std::filesystem::path config_file;  // an ergw configuration whose addresses fit the lab
  std::filesystem::path ergwd_path;   // the ergwd binary
  bool keep = false;
  int charon_log_level = 1;
  std::map<std::string, int> charon_subsystem_log_levels;  // both sides' (lab::CharonOptions)
  // How long each charon may take to answer on vici after it starts: the
  // first one in a fresh VM under emulation (tests/kernel) needs more.
  std::chrono::milliseconds charon_ready_timeout{15000};
  // Configuration for the simulated Azure side; empty: the same file. Tests
  // use it to give the two sides different policies or keys.
  std::filesystem::path azure_config_file;
  // What the simulated gateway does beyond the file (the identity it presents).
  AzureGatewayOptions azure_gateway;
  // What carries ESP on the appliance: the fast path (ergwd starts
  // ergw-fastpath; charon loads the ergw-ipsec plugin), kernel-libipsec, or
  // kernel ESP (appliance.dataPlane "kernel"; a kernel with ESP, tests/kernel).
  lab::CharonBackend appliance_backend = lab::CharonBackend::libipsec;
  // The simulated Azure side: kernel-libipsec (an independent ESP
  // implementation, for interoperability), the fast path (so that a
  // throughput figure measures the appliance, not libipsec), or kernel ESP
  // (Linux's own, in a kernel that has it: tests/kernel), its CHILD SAs bound
  // to an xfrm interface that the lab creates and routes the on-prem prefix into.
  lab::CharonBackend azure_backend = lab::CharonBackend::libipsec;
  // ergw-fastpath and the directory of libstrongswan-ergw-ipsec.so, for
  // either side on the fast path.
  std::filesystem::path fastpath_path;
  std::filesystem::path ergw_ipsec_plugin_dir;
  // More ergwd options (the management API's: --api-listen, ...).
  std::vector<std::string> ergwd_args;
  // The appliance is a VM that the caller boots (image/boot-test): the lab
  // runs no charon or ergwd on the appliance and hands its namespace over to
  // the VM (lab/vm_appliance.h); status() and wait_until_up() then have no
  // ergwd to ask. One Azure instance only.
  bool appliance_vm = false;
  lab::ProgressSink progress;
};

class AzureLab {
 public:
  static Result<std::unique_ptr<AzureLab>> create(AzureLabOptions options);
  ~AzureLab();
  AzureLab(const AzureLab&) = delete;
  AzureLab& operator=(const AzureLab&) = delete;

  lab::Lab& lab() { return *lab_; }
  lab::CharonInstance& appliance_charon() { return *lab_->charon(lab::Node::appliance); }
  // The simulated gateway's instances: one, or two for an active-active
  // connection (instance i plays azureGateway.tunnelIpAddresses[i]).
  size_t azure_instances() const { return instances_.size(); }
  lab::Node azure_node(size_t instance) const { return instances_.at(instance).node; }
  lab::CharonInstance& azure_charon(size_t instance = 0) { return *lab_->charon(azure_node(instance)); }
  // ergwd's line-JSON control socket (status, reload) and its API's local
  // socket (`ergw status --socket`).
  std::string control_socket() const;
  std::string api_socket() const;
  const std::string& connection_name() const { return connection_; }

  // When ergwd was started (just before its process was spawned).
  std::chrono::steady_clock::time_point ergwd_started_at() const { return ergwd_started_at_; }

  // ergwd's status report (the same JSON `ergw status --json` prints).
  Result<nlohmann::json> status() const;
  // Waits until ergwd reports every connection UP and its routes installed.
  Status wait_until_up(std::chrono::seconds timeout);
  // Waits until `predicate(status)` holds.
  Status wait_for(std::chrono::seconds timeout, const std::function<bool(const nlohmann::json&)>& predicate,
                  const std::string& what);
  // (Re)loads the simulated Azure side from `file` (a changed key, policy, ...).
  // Its connectionMode and DPD timeout are read when its charon starts and
  // cannot change here.
  Status load_azure_side(const std::filesystem::path& file);
  // Routes the on-prem prefix into the Azure side's tunnel device (ipsec0,
  // the fast path's TUN or the xfrm interface), as Azure routes the local
  // network gateway's address space.
  Status route_azure_side();
  // The device the Azure side's tunnel traffic goes into.
  std::string azure_tunnel_device() const;
  // Asks ergwd to re-read its configuration (SIGHUP equivalent): the
  // caller's file is copied over ergwd's first (ergwd exports its active
  // revision to a file of its own, never to the caller's).
  Status reload_ergwd() const;
  // The file ergwd runs with (<state>/appliance/ergw.json) and its state
  // directory (store, audit log, certificate).
  std::filesystem::path ergwd_config() const;
  std::filesystem::path ergwd_state_dir() const;
  // The simulated Azure gateway's BGP speaker (of an instance); null when the
  // connection does not enable BGP.
  AzureBird* azure_bird(size_t instance = 0) { return instances_.at(instance).bird.get(); }

  // Active-active failures. stop: the instance's charon is SIGKILLed and not
  // restarted (a dead instance says nothing to its peer: the appliance must
  // notice by DPD). start: it runs again with its configuration, and Azure
  // dials as before.
  Status stop_azure_instance(size_t instance);
  Status start_azure_instance(size_t instance);
  // Cuts (false) or restores the instance's link to the appliance: its WAN
  // veth down, as when the path to one public address fails.
  Status set_azure_instance_link(size_t instance, bool up);
  // The instances vnet-host sends on-prem traffic to: those whose tunnel is
  // up (both when none is), as Azure's VNet routes toward the on-prem prefixes
  // through the instances whose tunnels are connected.
  std::set<size_t> vnet_return_instances() const;

 private:
  AzureLab() = default;
  // Azure dials a connection it initiates whenever it holds no IKE SA of it,
  // until the peer answers (every 3 s); charon would give up after a refusal
  // (NO_PROPOSAL_CHOSEN while ergwd has not loaded its side yet,
  // AUTHENTICATION_FAILED, ...), and its start and close actions would reset
  // a changed connection and re-dial at every DELETE (azure_gateway.cc).
  void start_azure_redial();
  // The Azure side's routes, its BIRDs and its redialling: the last steps of
  // create(), whoever plays the appliance.
  static Result<std::unique_ptr<AzureLab>> finish_azure_side(std::unique_ptr<AzureLab> self,
                                                             const policy::ConnectionSpec& azure_spec);
  bool watch_instance(size_t instance);
  Status give_azure_addresses_in_selectors(lab::Node node, const std::vector<AzureGatewayConfig>& models);
  Status load_instance(size_t instance);
  Status route_instance(size_t instance);
  // Active-active: vnet-host's route to the on-prem prefix through the
  // instances whose tunnel is up (the watcher thread).
  Status route_vnet_return(const std::set<size_t>& instances);
  // One instance of the simulated gateway.
  struct Instance {
    lab::Node node = lab::Node::azure_gw;
    std::filesystem::path swanctl_conf;
    std::vector<AzureGatewayConfig> models;  // one per connection, written by load_azure_side
    std::map<std::string, std::vector<std::string>> dialled_children;  // by connection
    std::unique_ptr<AzureBird> bird;         // destroyed before lab_
    bool stopped = false;                    // stop_azure_instance (azure_mutex_)
  };
  AzureLabOptions options_;
  std::thread redial_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point ergwd_started_at_;
  mutable std::mutex azure_mutex_;
  std::unique_ptr<lab::Lab> lab_;
  std::vector<Instance> instances_;  // fixed once create() returns
  std::set<size_t> vnet_return_;     // azure_mutex_
  bool bgp_ = false;
  std::string connection_;
  std::string onprem_prefix_;
};

// The address vnet-host has in each IPv4 VNet prefix of a further connection
// (one of /28 or larger): the prefix's .10, as the lab's own VNet host has in
// 10.0.2.0/24. A real host, so ping and TCP reach it through each tunnel.
inline constexpr uint32_t kFurtherVnetHostOffset = 10;

// What `swanctl --list-sas` says of one connection (all its IKE SAs).
struct SaListing {
  bool established = false;          // an IKE SA of it is ESTABLISHED
  std::set<std::string> children;    // CHILD SAs by name, in any state
  std::set<std::string> installed;   // those INSTALLED
  // Each IKE SA as "#<unique id> <initiator SPI>_i <responder SPI>_r": what
  // stays the same for as long as that IKE SA lives (a rekey or a restart
  // changes it).
  std::set<std::string> ike_sas;
  // Each CHILD SA as "<name> #<unique id>, reqid .., <state>, <mode>, <algorithms>".
  std::set<std::string> child_sas;
};
// `swanctl --list-sas` by connection name.
std::map<std::string, SaListing> parse_sa_listing(const std::string& text);

// Checks that the configuration fits the lab: every connection from the
// appliance's address, the first to the lab's Azure gateway address, each
// further one to an IPv4 address of its own that the lab adds to azure-gw.
// An active-active connection (two tunnel addresses) must be the only one,
// its second address the lab's second instance's (azure_gw2_wan).
Status check_fits_lab(const policy::ApplianceConfig& config, const lab::LabAddresses& addresses);

}  // namespace ergw::azure_lab
