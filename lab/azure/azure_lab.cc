#include "lab/azure/azure_lab.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "gateway/cli/status_command.h"
#include "gateway/policy/connection_reader.h"
#include "lab/vm_appliance.h"

namespace ergw::azure_lab {

Status check_fits_lab(const policy::ApplianceConfig& config, const lab::LabAddresses& addresses) {
  if (config.connections.empty()) return Error{"the configuration has no connection"};
  const auto appliance = lab::address_only(addresses.appliance_wan);
  const auto azure = lab::address_only(addresses.azure_gw_wan);
  for (size_t i = 0; i < config.connections.size(); ++i) {
    const auto& c = config.connections[i];
    if (!c.local.address || c.local.address->to_string() != appliance) {
      return Error{c.local.source_path + ".address must be the lab appliance's address " + appliance};
    }
    const auto& tunnel = c.gateway.tunnel_ip_addresses;
    if (i == 0 && (tunnel.empty() || tunnel.front().to_string() != azure)) {
      return Error{c.gateway.source_path + ".tunnelIpAddresses must start with the lab's Azure gateway " + azure};
    }
    // Further connections: the simulated gateway answers each on an address
    // of its own that the lab adds to azure-gw's WAN.
    if (i > 0 && (tunnel.empty() || !tunnel.front().is_v4() || tunnel.front().to_string() == azure)) {
      return Error{c.gateway.source_path + ".tunnelIpAddresses must start with an IPv4 address other than " + azure +
                   ": the lab's Azure gateway answers the first connection on it"};
    }
    if (tunnel.size() > 1) {
      // Active-active: the second instance lives in a namespace of its own.
      const auto second = lab::address_only(addresses.azure_gw2_wan);
      if (config.connections.size() > 1 || tunnel.size() > 2 || tunnel[1].to_string() != second) {
        return Error{c.gateway.source_path + ".tunnelIpAddresses: an active-active gateway in the lab is its only "
                     "connection, with two addresses: " + azure + " and the second instance's " + second};
      }
    }
  }
  return Status::success();
}

namespace {

// The Azure side reads the connections through the product's reader only (the
// model types), not its validator or compiler: Azure has its own rules. Each
// connection is one Azure gateway's (one tunnel address each).
Result<std::vector<policy::ConnectionSpec>> read_azure_side(const std::filesystem::path& file) {
  Diagnostics diagnostics;
  auto config = policy::read_configuration_file(file, diagnostics);
  if (!config || diagnostics.has_errors() || config->connections.empty()) {
    return Error{"the Azure side's configuration " + file.string() + " cannot be read:\n" + diagnostics.format()};
  }
  return config->connections;
}

// One simulated gateway answers every connection of the file, each on its own
// tunnel address. On kernel-libipsec, which tells SAs apart by their
// selectors only, several route-based connections select their VNets
// (AzureGatewayOptions::vnet_selectors).
std::vector<AzureGatewayConfig> model_azure_side(const std::vector<policy::ConnectionSpec>& specs,
                                                 const AzureGatewayOptions& options, lab::CharonBackend backend,
                                                 size_t instance) {
  size_t route_based = 0;
  for (const auto& spec : specs) route_based += spec.azure.use_policy_based_traffic_selectors ? 0 : 1;
  std::vector<AzureGatewayConfig> models;
  for (size_t i = 0; i < specs.size(); ++i) {
    AzureGatewayOptions own = options;
    own.instance = instance;
    if (i > 0 || instance > 0) own.identity.clear();  // a test's identity is the first connection's
    own.vnet_selectors = route_based > 1 && backend == lab::CharonBackend::libipsec;
    models.push_back(model_azure_gateway(specs[i], own));
  }
  return models;
}

constexpr const char* kAzureFastpathTun = "ergwfp0";
// The Azure side on kernel ESP: its xfrm interface and the if_id its CHILD SAs carry.
constexpr const char* kAzureXfrmInterface = "azxfrm1";
constexpr uint32_t kAzureXfrmIfId = 1;
// Microsoft's advice for its VPN gateways: an MTU of 1400 inside the tunnel
// (TCP MSS 1350), which also keeps the ESP packets within the WAN's 1500.
constexpr const char* kAzureTunnelMtu = "1400";

std::string fastpath_socket(const lab::Lab& l, lab::Node node) {
  return (l.state_dir() / lab::node_title(node) / "fastpath" / "fastpath.sock").string();
}

lab::Lab::CharonSetup charon_setup(const AzureLabOptions& options, const lab::Lab& l, lab::Node node) {
  lab::Lab::CharonSetup setup;
  setup.log_level = options.charon_log_level;
  setup.subsystem_log_levels = options.charon_subsystem_log_levels;
  setup.ready_timeout = options.charon_ready_timeout;
  setup.backend = node == lab::Node::appliance ? options.appliance_backend : options.azure_backend;
  if (node == lab::Node::azure_gw2) setup.backend = lab::CharonBackend::libipsec;  // see create()
  if (!options.ergw_ipsec_plugin_dir.empty()) {
    setup.ergw_ipsec_plugin_dir = std::filesystem::absolute(options.ergw_ipsec_plugin_dir).string();
  }
  setup.fastpath_socket = fastpath_socket(l, node);
  return setup;
}

Status write_private(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  if (!out) return Error{"cannot write " + file.string()};
  ::chmod(file.c_str(), 0600);
  out << text;
  return out ? Status::success() : Status(Error{"cannot write " + file.string()});
}

// Azure's gateway is route-based: with kernel ESP the tunnel is an xfrm
// interface, and what the lab routes into it enters the tunnel.
Status add_azure_xfrm_interface(const lab::Lab& l) {
  const auto node = lab::Node::azure_gw;
  const std::string if_id = std::to_string(kAzureXfrmIfId);
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"ip", "link", "add", kAzureXfrmInterface, "type", "xfrm", "if_id", if_id},
        std::vector<std::string>{"ip", "link", "set", kAzureXfrmInterface, "mtu", kAzureTunnelMtu, "up"}}) {
    const auto r = l.exec(node, argv);
    if (!r.ok()) {
      return Error{"cannot create the Azure side's xfrm interface " + std::string(kAzureXfrmInterface) + ": " + r.err};
    }
  }
  return Status::success();
}

// `ip -batch` in a node's namespace: one process for many addresses and routes.
Status ip_batch(const lab::Lab& l, lab::Node node, const std::string& commands, const std::string& what) {
  if (commands.empty()) return Status::success();
  const auto file = l.state_dir() / ("ip-batch-" + std::string(lab::node_title(node)));
  {
    std::ofstream out(file, std::ios::trunc);
    out << commands;
    if (!out) return Error{"cannot write " + file.string()};
  }
  const auto r = l.exec(node, {"ip", "-batch", file.string()});
  std::filesystem::remove(file);
  if (!r.ok()) return Error{"cannot " + what + ": " + r.err};
  return Status::success();
}

// The second and further connections of the Azure side's file: their tunnel
// addresses on azure-gw's WAN (a /32 each, with a host route to it on the
// appliance) and their VNets on vnet-host (address .10 of each IPv4 prefix, a
// real host that answers ping and runs iperf3, routed by azure-gw), so that
// every connection has its own VNet to carry. One `ip -batch` per namespace:
// a lab with 100 connections would otherwise start some 400 processes.
Status add_extra_azure_connections(const lab::Lab& l, const std::vector<policy::ConnectionSpec>& specs) {
  const auto azure = lab::address_only(l.addresses().azure_gw_wan);
  std::string azure_side, appliance_side, vnet_side;
  for (size_t i = 1; i < specs.size(); ++i) {
    if (specs[i].gateway.tunnel_ip_addresses.empty()) continue;
    const auto& address = specs[i].gateway.tunnel_ip_addresses.front();
    const auto tunnel = address.to_string();
    if (!address.is_v4() || tunnel == azure) continue;  // check_fits_lab names the field
    azure_side += "address replace " + tunnel + "/32 dev " + lab::kWanIf + "\n";
    appliance_side += "route replace " + tunnel + "/32 via " + azure + " dev " + lab::kWanIf + "\n";
    for (const auto& vnet : specs[i].gateway.vnet_prefixes) {
      if (!vnet.is_v4() || vnet.length() > 28) continue;
      const auto host = IpAddress::v4(vnet.network().v4_host_order() + kFurtherVnetHostOffset);
      vnet_side += "address replace " + host.to_string() + "/" + std::to_string(vnet.length()) + " dev " +
                   lab::kHostIf + "\n";
      azure_side += "route replace " + vnet.to_string() + " dev " + lab::kLanIf + "\n";
    }
  }
  if (auto s = ip_batch(l, lab::Node::azure_gw, azure_side, "give azure-gw the further tunnel addresses"); !s) return s;
  if (auto s = ip_batch(l, lab::Node::vnet, vnet_side, "put the further VNets' hosts on vnet-host"); !s) return s;
  return ip_batch(l, lab::Node::appliance, appliance_side, "route the further Azure tunnel addresses on the appliance");
}

}  // namespace

std::string AzureLab::control_socket() const { return (lab_->state_dir() / "control.sock").string(); }
std::string AzureLab::api_socket() const { return (lab_->state_dir() / "ergwd.sock").string(); }
std::filesystem::path AzureLab::ergwd_config() const { return lab_->state_dir() / "appliance" / "ergw.json"; }
std::filesystem::path AzureLab::ergwd_state_dir() const { return lab_->state_dir() / "appliance" / "ergwd"; }

Result<nlohmann::json> AzureLab::status() const { return cli::ask_ergwd(control_socket(), {{"command", "status"}}); }

Status AzureLab::reload_ergwd() const {
  std::error_code ec;
  std::filesystem::copy_file(options_.config_file, ergwd_config(), std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return Error{"cannot copy " + options_.config_file.string() + " for ergwd: " + ec.message()};
  auto reply = cli::ask_ergwd(control_socket(), {{"command", "reload"}});
  if (!reply) return Error{reply.error()};
  if (!reply.value().value("reloaded", false)) return Error{"ergwd refused the new configuration"};
  return Status::success();
}

Status AzureLab::wait_for(std::chrono::seconds timeout, const std::function<bool(const nlohmann::json&)>& predicate,
                          const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no answer from ergwd";
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = status();
    if (s) {
      if (predicate(s.value())) return Status::success();
      last = cli::format_status(s.value());
    } else {
      last = s.error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return Error{"timed out after " + std::to_string(timeout.count()) + " s waiting for " + what + "; last status:\n" +
               last};
}

Status AzureLab::wait_until_up(std::chrono::seconds timeout) {
  return wait_for(
      timeout,
      [](const nlohmann::json& s) {
        const auto& conns = s.value("connections", nlohmann::json::array());
        if (conns.empty()) return false;
        for (const auto& c : conns) {
          if (c.value("state", "") != "UP") return false;
          for (const auto& r : c.value("routes", nlohmann::json::array())) {
            if (!r.value("installed", false)) return false;
          }
        }
        return true;
      },
      "the tunnel to come up");
}

// kernel-libipsec (5.9.8) installs a route for every outbound policy, with a
// source address it takes from the local traffic selector; without an address
// of its own inside that range it refuses the CHILD SA (TS_UNACCEPTABLE). The
// real Azure gateway sits in the VNet; the lab's has one VNet address, so it
// gets a host address on lo in each VNet selector range it lacks: the last
// usable address of the range. With the VNet selectors of several
// connections (AzureGatewayOptions::vnet_selectors) that is one address per
// further VNet, all in one `ip -batch`.
Status AzureLab::give_azure_addresses_in_selectors(lab::Node node, const std::vector<AzureGatewayConfig>& models) {
  const auto own = IpAddress::parse(lab::address_only(lab_->addresses().azure_gw_vnet));
  std::string commands;
  for (const auto& model : models) {
    for (const auto& child : model.children) {
      for (const auto& text : child.local_ts) {
        const auto prefix = IpPrefix::parse(text);
        if (!prefix || !prefix->is_v4() || prefix->length() == 0 || prefix->length() > 30) continue;
        if (own && prefix->contains(*own)) continue;
        const uint32_t last = prefix->network().v4_host_order() + (1u << (32 - prefix->length())) - 2;
        commands += "address replace " + IpAddress::v4(last).to_string() + "/32 dev lo\n";
      }
    }
  }
  return ip_batch(*lab_, node, commands,
                  "give " + std::string(lab::node_title(node)) + " an address in each of its selectors' ranges");
}

Status AzureLab::load_azure_side(const std::filesystem::path& file) {
  auto specs = read_azure_side(file);
  if (!specs) return Error{specs.error()};
  // Azure tears down the tunnel of a connection that is deleted; charon keeps
  // the SAs of a connection unloaded without a start action, so they are
  // terminated here once the new file is loaded.
  std::vector<std::vector<std::string>> removed(instances_.size());
  for (size_t i = 0; i < instances_.size(); ++i) {
    auto models = model_azure_side(specs.value(), options_.azure_gateway, options_.azure_backend, i);
    {
      std::lock_guard lock(azure_mutex_);
      const auto& running = instances_[i].models;
      for (const auto& old_model : running) {
        const bool kept = std::any_of(models.begin(), models.end(),
                                      [&](const auto& m) { return m.connection == old_model.connection; });
        if (!kept) removed[i].push_back(old_model.connection);
      }
      // The charon settings were written from the first connection.
      if (!running.empty() && (models.front().mode != running.front().mode ||
                               models.front().dpd_timeout_seconds != running.front().dpd_timeout_seconds)) {
        return Error{"the simulated Azure gateway reads connectionMode and dpdTimeoutSeconds when it starts; build a "
                     "new lab to change them"};
      }
    }
    if (auto s = give_azure_addresses_in_selectors(instances_[i].node, models); !s) return s;
    if (auto s = write_private(instances_[i].swanctl_conf, render_azure_swanctl_conf(models, /*reveal_secret=*/true));
        !s) {
      return s;
    }
    std::lock_guard lock(azure_mutex_);
    auto& instance = instances_[i];
    instance.models = std::move(models);
    instance.dialled_children.clear();
    for (const auto& model : instance.models) {
      for (const auto& child : model.children) {
        if (child.azure_initiates) instance.dialled_children[model.connection].push_back(child.name);
      }
    }
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (auto s = load_instance(i); !s) return s;
    for (const auto& name : removed[i]) {
      // Fails when the connection has no SA, which is what is wanted.
      (void)azure_charon(i).terminate_ike(name);
    }
  }
  return Status::success();
}

// An instance's charon takes the file load_azure_side wrote for it (not while
// it is stopped: start_azure_instance loads it).
Status AzureLab::load_instance(size_t instance) {
  {
    std::lock_guard lock(azure_mutex_);
    if (instances_[instance].stopped) return Status::success();
  }
  return azure_charon(instance).load_all(instances_[instance].swanctl_conf);
}

std::string AzureLab::azure_tunnel_device() const {
  switch (options_.azure_backend) {
    case lab::CharonBackend::ergw_ipsec: return kAzureFastpathTun;
    case lab::CharonBackend::kernel_esp: return kAzureXfrmInterface;
    case lab::CharonBackend::libipsec: break;
  }
  return lab::kLibipsecTun;
}

Status AzureLab::route_azure_side() {
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (auto s = route_instance(i); !s) return s;
  }
  return Status::success();
}

// The on-prem prefix into the instance's tunnel device, which appears when its
// charon starts; with BGP the instance learns it instead.
Status AzureLab::route_instance(size_t instance) {
  const auto node = azure_node(instance);
  if (auto s = lab_->wait_for_link(node, azure_tunnel_device(), std::chrono::seconds(10)); !s) return s;
  if (bgp_) return Status::success();
  return lab_->route_via(node, onprem_prefix_, azure_tunnel_device());
}

Status AzureLab::route_vnet_return(const std::set<size_t>& instances) {
  std::vector<std::string> argv = {"ip", "route", "replace", onprem_prefix_};
  const auto next_hop = [&](size_t i) -> std::vector<std::string> {
    const auto& a = lab_->addresses();
    return {"via", lab::address_only(i == 0 ? a.azure_gw_vnet : a.azure_gw2_vnet), "dev",
            i == 0 ? lab::kHostIf : lab::kSecondHostIf, "onlink"};
  };
  for (const size_t i : instances) {
    if (instances.size() > 1) argv.push_back("nexthop");
    const auto hop = next_hop(i);
    argv.insert(argv.end(), hop.begin(), hop.end());
  }
  const auto r = lab_->exec(lab::Node::vnet, argv);
  if (!r.ok()) return Error{"cannot route the on-prem prefix on vnet-host: " + r.err};
  std::lock_guard lock(azure_mutex_);
  vnet_return_ = instances;
  return Status::success();
}

std::set<size_t> AzureLab::vnet_return_instances() const {
  std::lock_guard lock(azure_mutex_);
  return vnet_return_;
}

Status AzureLab::stop_azure_instance(size_t instance) {
  auto& charon = azure_charon(instance);
  {
    std::lock_guard lock(azure_mutex_);
    instances_.at(instance).stopped = true;
  }
  lab_->supervisor().unsupervise(charon.daemon_name());
  auto killed = lab_->supervisor().kill_daemon(charon.daemon_name(), SIGKILL);
  if (!killed) return Error{killed.error()};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (charon.pid() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (charon.pid()) return Error{"the charon of " + std::string(lab::node_title(azure_node(instance))) + " did not end"};
  return Status::success();
}

Status AzureLab::start_azure_instance(size_t instance) {
  auto& charon = azure_charon(instance);
  lab_->supervisor().stop(charon.daemon_name());  // forgets the dead one
  if (auto s = charon.start(); !s) return s;
  {
    std::lock_guard lock(azure_mutex_);
    instances_.at(instance).stopped = false;
  }
  if (auto s = load_instance(instance); !s) return s;
  return route_instance(instance);
}

Status AzureLab::set_azure_instance_link(size_t instance, bool up) {
  const auto node = azure_node(instance);
  const auto r = lab_->exec(node, {"ip", "link", "set", lab::kWanIf, up ? "up" : "down"});
  if (!r.ok()) return Error{"cannot set " + std::string(lab::node_title(node)) + "'s WAN link: " + r.err};
  if (up && node == lab::Node::azure_gw2) {
    // Its route to the appliance is not a connected one: the link's going
    // down took it away.
    const auto& a = lab_->addresses();
    const auto back = lab_->exec(node, {"ip", "route", "replace", lab::address_only(a.appliance_wan) + "/32", "dev",
                                        lab::kWanIf, "src", lab::address_only(a.azure_gw2_wan)});
    if (!back.ok()) return Error{"cannot route azure-gw-2 to the appliance again: " + back.err};
  }
  return Status::success();
}

AzureLab::~AzureLab() {
  stopping_ = true;
  if (redial_.joinable()) redial_.join();
}

void AzureLab::start_azure_redial() {
  redial_ = std::thread([this] {
    while (!stopping_) {
      for (int i = 0; i < 30 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (stopping_) break;
      std::set<size_t> up;
      for (size_t i = 0; i < instances_.size() && !stopping_; ++i) {
        if (watch_instance(i)) up.insert(i);
      }
      // Azure's VNet sends toward on-prem through the instances whose tunnel
      // is connected; with none, through both (the packets are lost either way).
      if (instances_.size() > 1 && !stopping_) {
        if (up.empty()) up = {0, 1};
        if (up != vnet_return_instances()) (void)route_vnet_return(up);
      }
    }
  });
}

// One round of the watcher for one instance: re-dial what Azure dials, switch
// its BGP session with the tunnel. True when its tunnel is up.
bool AzureLab::watch_instance(size_t instance) {
  std::map<std::string, std::vector<std::string>> dialled;
  {
    std::lock_guard lock(azure_mutex_);
    dialled = instances_[instance].dialled_children;
  }
  AzureBird* bird = instances_[instance].bird.get();
  if (dialled.empty() && !bird && instances_.size() == 1) return false;
  auto* charon = lab_->charon(azure_node(instance));
  if (charon == nullptr || !charon->pid()) {
    // Azure's BGP session lives and dies with the connection.
    if (bird && bird->session_enabled()) (void)bird->set_session_enabled(false);
    return false;
  }
  // One listing for every connection: with many of them, a swanctl per
  // connection every round would load the machine the lab measures.
  auto listing = charon->swanctl({"--list-sas"}, std::chrono::seconds(5));
  if (!listing.ok()) return false;
  const auto sas = parse_sa_listing(listing.out);
  const auto it = sas.find(connection_);
  const bool up = it != sas.end() && it->second.established && !it->second.installed.empty();
  if (bird && up != bird->session_enabled()) (void)bird->set_session_enabled(up);
  // Azure dials a connection it initiates whenever it holds no IKE SA of it
  // (this watcher is its only dialler: the model has no start or close
  // actions, azure_gateway.cc says why), keeps dialling until the peer
  // answers, and brings up each of its CHILD SAs (one per selector pair when
  // policy-based); charon gives up after a refusal.
  for (const auto& [connection, children] : dialled) {
    const auto found = sas.find(connection);
    const bool ike_up = found != sas.end();
    for (const auto& child : children) {
      if (ike_up && found->second.children.count(child)) continue;
      if (ike_up && !found->second.established) break;  // still connecting
      (void)charon->swanctl({"--initiate", "--ike", connection, "--child", child, "--timeout", "2"},
                            std::chrono::seconds(5));
      if (!ike_up) break;  // the first CHILD SA brings the IKE SA up; the others follow next round
    }
  }
  return up;
}

std::map<std::string, SaListing> parse_sa_listing(const std::string& text) {
  std::map<std::string, SaListing> out;
  SaListing* current = nullptr;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    // "name: #3, ESTABLISHED, IKEv2, ..." starts an IKE SA; its CHILD SAs are
    // indented: "  child: #5, reqid 1, INSTALLED, TUNNEL-in-UDP, ...".
    const auto colon = line.find(": #");
    if (colon == std::string::npos) continue;
    const bool indented = line[0] == ' ';
    const auto name_begin = line.find_first_not_of(' ');
    const std::string name = line.substr(name_begin, colon - name_begin);
    if (!indented) {
      current = &out[name];
      if (line.find(", ESTABLISHED,") != std::string::npos) current->established = true;
      const auto id_end = line.find(',', colon + 2);
      const auto spis = line.find("IKEv2, ");
      std::string identity =
          line.substr(colon + 2, id_end == std::string::npos ? std::string::npos : id_end - colon - 2);
      if (spis != std::string::npos) identity += " " + line.substr(spis + 7);
      // The initiator's SPI is starred on the side that initiated; the star is not part of the SA.
      identity.erase(std::remove(identity.begin(), identity.end(), '*'), identity.end());
      current->ike_sas.insert(identity);
    } else if (current != nullptr) {
      current->children.insert(name);
      current->child_sas.insert(name + " " + line.substr(colon + 2));
      if (line.find(", INSTALLED,") != std::string::npos) current->installed.insert(name);
    }
  }
  return out;
}

Result<std::unique_ptr<AzureLab>> AzureLab::create(AzureLabOptions options) {
  // ergwd validates its configuration itself; the lab only needs to read it.
  Diagnostics diagnostics;
  auto config = policy::read_configuration_file(options.config_file, diagnostics);
  if (!config || diagnostics.has_errors()) {
    return Error{options.config_file.string() + " cannot be read:\n" + diagnostics.format()};
  }
  lab::LabConfig lab_config;
  lab_config.keep = options.keep;
  lab_config.progress = options.progress;
  if (auto s = check_fits_lab(*config, lab_config.addresses); !s) return Error{s.error()};
  // Active-active: Azure's second instance in a namespace of its own. It runs
  // on kernel-libipsec, like the lab's default Azure side.
  const bool active_active = config->connections.front().gateway.tunnel_ip_addresses.size() > 1;
  if (active_active && options.azure_backend != lab::CharonBackend::libipsec) {
    return Error{"the lab's active-active Azure gateway runs on kernel-libipsec only"};
  }
  lab_config.azure_instances = active_active ? 2 : 1;
  if (active_active && options.appliance_vm) {
    return Error{"the lab's appliance VM has one WAN link: an active-active connection needs two"};
  }

  if (options.azure_backend == lab::CharonBackend::kernel_esp) options.azure_gateway.xfrm_if_id = kAzureXfrmIfId;
  std::unique_ptr<AzureLab> self(new AzureLab());
  self->options_ = options;
  self->connection_ = config->connections.front().name;
  self->onprem_prefix_ = lab_config.addresses.onprem_prefix;
  auto lab = lab::Lab::create(lab_config);
  if (!lab) return Error{lab.error()};
  self->lab_ = std::move(lab.value());
  auto& l = *self->lab_;
  for (int i = 0; i < lab_config.azure_instances; ++i) {
    Instance instance;
    instance.node = i == 0 ? lab::Node::azure_gw : lab::Node::azure_gw2;
    instance.swanctl_conf = l.state_dir() / (i == 0 ? "azure-side.swanctl.conf" : "azure-side-2.swanctl.conf");
    self->instances_.push_back(std::move(instance));
  }

  // The simulated Azure gateway's own model of the connection: what its
  // charon must know before it starts (DPD retransmission, InitiatorOnly).
  const auto azure_file = options.azure_config_file.empty() ? options.config_file : options.azure_config_file;
  auto azure_specs = read_azure_side(azure_file);
  if (!azure_specs) return Error{azure_specs.error()};
  const policy::ConnectionSpec azure_spec = azure_specs.value().front();
  for (const auto& instance : self->instances_) {
    const auto conf_dir = l.state_dir() / lab::node_title(instance.node) / "strongswan.d";
    std::filesystem::create_directories(conf_dir);
    std::ofstream(conf_dir / "azure.conf")
        << render_azure_charon_settings(model_azure_gateway(azure_spec, options.azure_gateway),
                                        static_cast<int>(azure_specs.value().size()));
  }
  if (auto s = add_extra_azure_connections(l, azure_specs.value()); !s) return Error{s.error()};
  if (options.azure_backend == lab::CharonBackend::ergw_ipsec) {
    std::filesystem::create_directories(l.state_dir() / lab::node_title(lab::Node::azure_gw) / "fastpath");
    if (auto s = l.start_fastpath(lab::Node::azure_gw, std::filesystem::absolute(options.fastpath_path).string(),
                                  fastpath_socket(l, lab::Node::azure_gw), kAzureFastpathTun);
        !s) {
      return Error{s.error()};
    }
  }
  if (options.azure_backend == lab::CharonBackend::kernel_esp) {
    if (auto s = add_azure_xfrm_interface(l); !s) return Error{s.error()};
  }
  for (const auto& instance : self->instances_) {
    if (auto c = l.start_charon(instance.node, charon_setup(options, l, instance.node)); !c) return Error{c.error()};
  }
  if (options.appliance_vm) {
    if (auto s = lab::hand_appliance_to_vm(l); !s) return Error{s.error()};
  } else if (auto c = l.start_charon(lab::Node::appliance, charon_setup(options, l, lab::Node::appliance)); !c) {
    return Error{c.error()};
  }

  // The simulated Azure gateway: the same connection, Azure's way.
  l.progress("[lab " + l.id() + "] configuring the simulated Azure VPN gateway from " + azure_file.string());
  if (auto s = self->load_azure_side(azure_file); !s) return Error{s.error()};
  if (options.appliance_vm) return finish_azure_side(std::move(self), azure_spec);
  // The appliance: ergwd drives its charon (supervised, like systemd would).
  const auto appliance_dir = l.state_dir() / "appliance";
  l.progress("[lab " + l.id() + "] starting ergwd on the appliance");
  // ergwd exports its active revision to its configuration file (PSKs in
  // keys/ beside it): a copy of its own, never the caller's file.
  std::error_code copy_error;
  std::filesystem::copy_file(options.config_file, self->ergwd_config(),
                             std::filesystem::copy_options::overwrite_existing, copy_error);
  if (copy_error) return Error{"cannot copy " + options.config_file.string() + ": " + copy_error.message()};
  std::vector<std::string> ergwd = {std::filesystem::absolute(options.ergwd_path).string(),
                                    "--config", self->ergwd_config().string(),
                                    "--state-dir", self->ergwd_state_dir().string(),
                                    "--socket", self->api_socket(),
                                    "--control-socket", self->control_socket(),
                                    "--vici", self->appliance_charon().vici_socket().string(),
                                    "--charon-settings", (appliance_dir / "strongswan.d" / "ergwd.conf").string(),
                                    "--bird-dir", (appliance_dir / "bird").string(),
                                    // Never the machine's strongSwan service: the appliance's charon, which
                                    // the lab's supervisor starts again as systemd would.
                                    "--charon-restart-command",
                                    "for p in $(ip netns pids " + l.netns(lab::Node::appliance) +
                                        "); do [ \"$(cat /proc/$p/comm)\" = charon ] && kill $p; done; true"};
  if (options.appliance_backend == lab::CharonBackend::ergw_ipsec) {
    // ergwd finds the fast path and the plugin here (auto picks it) and runs
    // ergw-fastpath itself, its socket where the appliance's charon looks.
    ergwd.insert(ergwd.end(),
                 {"--fastpath", std::filesystem::absolute(options.fastpath_path).string(), "--ergw-ipsec-plugin",
                  (std::filesystem::absolute(options.ergw_ipsec_plugin_dir) / "libstrongswan-ergw-ipsec.so").string(),
                  "--fastpath-dir", (appliance_dir / "fastpath").string()});
  }
  ergwd.insert(ergwd.end(), options.ergwd_args.begin(), options.ergwd_args.end());
  self->ergwd_started_at_ = std::chrono::steady_clock::now();
  if (auto s = l.start_daemon(lab::Node::appliance, "ergwd", std::move(ergwd)); !s) {
    return Error{s.error()};
  }
  return finish_azure_side(std::move(self), azure_spec);
}

Result<std::unique_ptr<AzureLab>> AzureLab::finish_azure_side(std::unique_ptr<AzureLab> self,
                                                              const policy::ConnectionSpec& azure_spec) {
  auto& l = *self->lab_;
  // With BGP the Azure side learns the on-prem prefixes: no static route.
  self->bgp_ = azure_bgp_side(azure_spec).has_value();
  if (auto s = self->route_azure_side(); !s) return Error{s.error()};
  for (size_t i = 0; i < self->instances_.size() && self->bgp_; ++i) {
    // Each instance speaks BGP from its own address.
    auto side = azure_bgp_side(azure_spec, i);
    if (!side) {
      return Error{azure_spec.gateway.source_path + ": no BGP address for instance " + std::to_string(i) +
                   " (bgpSettings.bgpPeeringAddress, or gatewayCustomBgpIpAddresses, one per instance)"};
    }
    auto bird = AzureBird::start(l, *side, self->instances_[i].node, i == 0 ? "azure-bird" : "azure-bird-2");
    if (!bird) return Error{bird.error()};
    self->instances_[i].bird = std::move(bird.value());
  }
  if (self->instances_.size() > 1) {
    if (auto s = self->route_vnet_return({0, 1}); !s) return Error{s.error()};
  }
  self->start_azure_redial();
  return self;
}

}  // namespace ergw::azure_lab
