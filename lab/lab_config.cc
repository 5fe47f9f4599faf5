#include "lab/lab_config.h"

#include <unistd.h>

#include <atomic>
#include <iostream>
#include <optional>

#include "common/ip_prefix.h"

namespace ergw::lab {

std::string_view node_suffix(Node node) {
  switch (node) {
    case Node::onprem: return "onprem";
    case Node::appliance: return "appl";
    case Node::azure_gw: return "azgw";
    case Node::vnet: return "vnet";
    case Node::azure_gw2: return "azgw2";
  }
  return "?";
}

std::string_view node_title(Node node) {
  switch (node) {
    case Node::onprem: return "onprem-host";
    case Node::appliance: return "appliance";
    case Node::azure_gw: return "azure-gw";
    case Node::vnet: return "vnet-host";
    case Node::azure_gw2: return "azure-gw-2";
  }
  return "?";
}

std::string address_only(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

Status LabAddresses::validate() const {
  const std::pair<const char*, const std::string*> hosts[] = {
      {"onprem_host", &onprem_host},     {"appliance_lan", &appliance_lan}, {"appliance_wan", &appliance_wan},
      {"azure_gw_wan", &azure_gw_wan},   {"azure_gw_vnet", &azure_gw_vnet}, {"vnet_host", &vnet_host},
      {"azure_gw2_wan", &azure_gw2_wan}, {"azure_gw2_vnet", &azure_gw2_vnet}};
  for (const auto& [field, value] : hosts) {
    const auto parsed = IpPrefix::parse(*value, /*allow_host_bits=*/true);
    if (!parsed || value->find('/') == std::string::npos || !parsed->is_v4()) {
      return Error{std::string("lab address ") + field + " = '" + *value + "': expected IPv4 address/length"};
    }
  }
  const auto onprem = IpPrefix::parse(onprem_prefix);
  const auto vnet = IpPrefix::parse(vnet_prefix);
  if (!onprem) return Error{"lab onprem_prefix '" + onprem_prefix + "' is not a prefix (host bits set?)"};
  if (!vnet) return Error{"lab vnet_prefix '" + vnet_prefix + "' is not a prefix (host bits set?)"};
  if (!onprem->contains(*IpAddress::parse(address_only(onprem_host)))) {
    return Error{"lab onprem_prefix " + onprem_prefix + " does not contain onprem_host " + onprem_host};
  }
  if (!vnet->contains(*IpAddress::parse(address_only(vnet_host)))) {
    return Error{"lab vnet_prefix " + vnet_prefix + " does not contain vnet_host " + vnet_host};
  }
  return {};
}

ProgressSink stderr_progress() {
  return [](std::string_view line) { std::cerr << line << std::endl; };
}

std::vector<Node> lab_nodes(int azure_instances) {
  std::vector<Node> nodes(kAllNodes.begin(), kAllNodes.end());
  if (azure_instances > 1) nodes.push_back(Node::azure_gw2);
  return nodes;
}

std::string make_labid() {
  static std::atomic<int> counter{0};
  int n = counter++;
  std::string suffix;
  do {
    suffix.insert(suffix.begin(), static_cast<char>('a' + n % 26));
    n /= 26;
  } while (n > 0);
  return std::to_string(getpid()) + suffix;
}

std::string netns_name(const std::string& labid, Node node) {
  return "ergw-" + labid + "-" + std::string(node_suffix(node));
}

}  // namespace ergw::lab
