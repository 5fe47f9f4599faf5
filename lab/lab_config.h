// What a lab looks like: its four nodes, their addresses and where its state
// lives. Defaults follow the picture in docs/lab.md.
#pragma once

#include <array>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ergw::lab {

// The network namespaces of a lab: four, and a fifth for the second instance
// of an active-active Azure gateway (azure_gw2) when LabConfig asks for it.
enum class Node { onprem, appliance, azure_gw, vnet, azure_gw2 };
inline constexpr std::array<Node, 4> kAllNodes = {Node::onprem, Node::appliance, Node::azure_gw, Node::vnet};
// Every namespace a lab may have (cleanup of a lab whose record is unreadable).
inline constexpr std::array<Node, 5> kEveryNode = {Node::onprem, Node::appliance, Node::azure_gw, Node::vnet,
                                                   Node::azure_gw2};

// "onprem", "appl", "azgw", "vnet", "azgw2": the suffix of the namespace name.
std::string_view node_suffix(Node node);
// "onprem-host", "appliance", "azure-gw", "vnet-host", "azure-gw-2": for humans.
std::string_view node_title(Node node);

// Interface names inside the namespaces (each namespace has its own set).
inline constexpr const char* kHostIf = "eth0";      // onprem-host and vnet-host
inline constexpr const char* kLanIf = "lan0";       // appliance -> on-prem, azure-gw -> VNet
inline constexpr const char* kWanIf = "wan0";       // the ExpressRoute private peering link
inline constexpr const char* kLibipsecTun = "ipsec0";  // kernel-libipsec's TUN (one per charon)
// The second Azure instance's links: appliance/wan1 <-> azure-gw-2/wan0 (its
// own "peering" link, which a test can cut alone) and azure-gw-2/lan0 <->
// vnet-host/eth1.
inline constexpr const char* kSecondWanIf = "wan1";
inline constexpr const char* kSecondHostIf = "eth1";

// Addresses as "address/length". The lab routes each host's subnet on its
// gateway, so a host may sit in another subnet than its gateway's address
// (vnet-host 10.0.2.10/24 behind azure-gw 10.0.1.1/24, as in Azure where the
// gateway lives in GatewaySubnet).
struct LabAddresses {
  std::string onprem_host = "192.168.10.10/24";
  std::string appliance_lan = "192.168.10.1/24";
  std::string appliance_wan = "172.16.0.1/30";
  std::string azure_gw_wan = "172.16.0.2/30";
  std::string azure_gw_vnet = "10.0.1.1/24";
  std::string vnet_host = "10.0.2.10/24";
  // The second Azure instance (two Azure instances only): its tunnel address
  // on a point-to-point link from the appliance's WAN address (the appliance
  // reaches both instances from 172.16.0.1, as an on-prem device reaches both
  // public addresses of an active-active gateway from one), and its address
  // in GatewaySubnet next to the first instance's.
  std::string azure_gw2_wan = "172.16.0.6/32";
  std::string azure_gw2_vnet = "10.0.1.2/24";
  // What each side announces / routes into the tunnel.
  std::string onprem_prefix = "192.168.10.0/24";
  std::string vnet_prefix = "10.0.0.0/16";

  // Every field parses and the prefixes contain their hosts.
  Status validate() const;
};

// Progress lines ("[lab 4711a] creating namespaces ...") go here as the lab
// builds; the default prints to stderr.
using ProgressSink = std::function<void(std::string_view line)>;
ProgressSink stderr_progress();

struct LabConfig {
  std::string labid;  // empty: a fresh one from the pid (see make_labid)
  std::filesystem::path state_root = "/run/ergw-lab";
  LabAddresses addresses;
  bool keep = false;                     // leave the lab up when the owner ends
  // 2: a fifth namespace azure-gw-2 for an active-active Azure gateway's
  // second instance (docs/lab.md, "Active-active").
  int azure_instances = 1;
  bool install_signal_handlers = true;   // SIGINT/SIGTERM tear the lab down
  ProgressSink progress;                 // unset: stderr
};

// The namespaces of a lab with `azure_instances` Azure gateway instances.
std::vector<Node> lab_nodes(int azure_instances);

// "<pid><letter>": short, unique per run; a second lab of the same process
// gets the next letter.
std::string make_labid();
// ergw-<labid>-<suffix>
std::string netns_name(const std::string& labid, Node node);

// "192.168.10.1/24" -> "192.168.10.1".
std::string address_only(const std::string& cidr);

}  // namespace ergw::lab
