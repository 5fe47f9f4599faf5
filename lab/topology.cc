#include "lab/topology.h"

#include "common/ip_prefix.h"
#include "lab/netns.h"
#include "lab/try.h"

namespace ergw::lab {
namespace {

Status add_address(const std::string& ns, const std::string& dev, const std::string& cidr) {
  ERGW_LAB_TRY(ip_in(ns, {"addr", "add", cidr, "dev", dev}));
  return ip_in(ns, {"link", "set", dev, "up"});
}

// The gateway routes the host's subnet on its LAN side when its own address
// does not already cover it (vnet-host in another subnet than GatewaySubnet).
Status route_host_subnet(const std::string& gateway_ns, const std::string& gateway_cidr,
                         const std::string& host_cidr) {
  const auto gateway = IpPrefix::parse(gateway_cidr, true);
  const auto host = IpPrefix::parse(host_cidr, true);
  const auto host_address = IpAddress::parse(address_only(host_cidr));
  const IpPrefix gateway_subnet(gateway->network().masked(gateway->length()), gateway->length());
  if (gateway_subnet.contains(*host_address)) return {};
  const IpPrefix host_subnet(host->network().masked(host->length()), host->length());
  return ip_in(gateway_ns, {"route", "replace", host_subnet.to_string(), "dev", kLanIf});
}

Status gateway_sysctls(const std::string& ns) {
  ERGW_LAB_TRY(sysctl_in(ns, "net.ipv4.ip_forward", "1"));
  // Decrypted packets appear on ipsec0; with strict rp_filter they are dropped
  // whenever the route back to their source is not (yet) via ipsec0.
  ERGW_LAB_TRY(sysctl_in(ns, "net.ipv4.conf.all.rp_filter", "0"));
  return sysctl_in(ns, "net.ipv4.conf.default.rp_filter", "0");
}

// The second instance of an active-active Azure gateway: its own namespace,
// its own link from the appliance (unnumbered on the appliance's side: the
// appliance reaches it from its one WAN address, as it reaches the first) and
// its own link to vnet-host, which answers on it with its one address.
Status build_second_azure_instance(const std::string& labid, const LabAddresses& a, const ProgressSink& progress) {
  const std::string appl = netns_name(labid, Node::appliance);
  const std::string azgw2 = netns_name(labid, Node::azure_gw2);
  const std::string vnet = netns_name(labid, Node::vnet);
  progress("[lab " + labid + "] second Azure instance: appliance/" + kSecondWanIf + " <-> azure-gw-2/" + kWanIf +
           " (" + a.azure_gw2_wan + "), azure-gw-2/" + kLanIf + " (" + a.azure_gw2_vnet + ") <-> vnet-host/" +
           kSecondHostIf);
  ERGW_LAB_TRY(ip_in(appl, {"link", "add", kSecondWanIf, "type", "veth", "peer", "name", kWanIf, "netns", azgw2}));
  ERGW_LAB_TRY(ip_in(azgw2, {"link", "add", kLanIf, "type", "veth", "peer", "name", kSecondHostIf, "netns", vnet}));
  ERGW_LAB_TRY(add_address(azgw2, kWanIf, a.azure_gw2_wan));
  ERGW_LAB_TRY(add_address(azgw2, kLanIf, a.azure_gw2_vnet));
  ERGW_LAB_TRY(ip_in(appl, {"link", "set", kSecondWanIf, "up"}));
  ERGW_LAB_TRY(ip_in(vnet, {"link", "set", kSecondHostIf, "up"}));
  const std::string appliance = address_only(a.appliance_wan);
  const std::string instance = address_only(a.azure_gw2_wan);
  ERGW_LAB_TRY(ip_in(appl, {"route", "replace", instance + "/32", "dev", kSecondWanIf, "src", appliance}));
  ERGW_LAB_TRY(ip_in(azgw2, {"route", "replace", appliance + "/32", "dev", kWanIf, "src", instance}));
  ERGW_LAB_TRY(route_host_subnet(azgw2, a.azure_gw2_vnet, a.vnet_host));
  return gateway_sysctls(azgw2);
}

}  // namespace

Status build_topology(const std::string& labid, const LabAddresses& a, const ProgressSink& progress,
                      int azure_instances) {
  ERGW_LAB_TRY(a.validate());
  const std::string prefix = "[lab " + labid + "] ";
  const std::string onprem = netns_name(labid, Node::onprem);
  const std::string appl = netns_name(labid, Node::appliance);
  const std::string azgw = netns_name(labid, Node::azure_gw);
  const std::string vnet = netns_name(labid, Node::vnet);

  for (Node node : lab_nodes(azure_instances)) {
    const std::string ns = netns_name(labid, node);
    progress(prefix + "namespace " + ns + " (" + std::string(node_title(node)) + ")");
    ERGW_LAB_TRY(create_netns(ns));
    ERGW_LAB_TRY(ip_in(ns, {"link", "set", "lo", "up"}));
  }

  progress(prefix + "links: onprem-host/eth0 <-> appliance/lan0, appliance/wan0 <-> azure-gw/wan0 "
                    "(ExpressRoute private peering), azure-gw/lan0 <-> vnet-host/eth0");
  ERGW_LAB_TRY(ip_in(onprem, {"link", "add", kHostIf, "type", "veth", "peer", "name", kLanIf, "netns", appl}));
  ERGW_LAB_TRY(ip_in(appl, {"link", "add", kWanIf, "type", "veth", "peer", "name", kWanIf, "netns", azgw}));
  ERGW_LAB_TRY(ip_in(azgw, {"link", "add", kLanIf, "type", "veth", "peer", "name", kHostIf, "netns", vnet}));

  progress(prefix + "addresses: onprem-host " + a.onprem_host + ", appliance " + a.appliance_lan + " | " +
           a.appliance_wan + ", azure-gw " + a.azure_gw_wan + " | " + a.azure_gw_vnet + ", vnet-host " +
           a.vnet_host);
  ERGW_LAB_TRY(add_address(onprem, kHostIf, a.onprem_host));
  ERGW_LAB_TRY(add_address(appl, kLanIf, a.appliance_lan));
  ERGW_LAB_TRY(add_address(appl, kWanIf, a.appliance_wan));
  ERGW_LAB_TRY(add_address(azgw, kWanIf, a.azure_gw_wan));
  ERGW_LAB_TRY(add_address(azgw, kLanIf, a.azure_gw_vnet));
  ERGW_LAB_TRY(add_address(vnet, kHostIf, a.vnet_host));

  progress(prefix + "routes: hosts default via their gateway; gateways forward, rp_filter off");
  // onlink: the gateway may sit outside the host's subnet (see route_host_subnet).
  ERGW_LAB_TRY(ip_in(onprem, {"route", "replace", "default", "via", address_only(a.appliance_lan), "dev",
                              kHostIf, "onlink"}));
  ERGW_LAB_TRY(ip_in(vnet, {"route", "replace", "default", "via", address_only(a.azure_gw_vnet), "dev",
                            kHostIf, "onlink"}));
  ERGW_LAB_TRY(route_host_subnet(appl, a.appliance_lan, a.onprem_host));
  ERGW_LAB_TRY(route_host_subnet(azgw, a.azure_gw_vnet, a.vnet_host));
  ERGW_LAB_TRY(gateway_sysctls(appl));
  ERGW_LAB_TRY(gateway_sysctls(azgw));
  if (azure_instances > 1) ERGW_LAB_TRY(build_second_azure_instance(labid, a, progress));
  return {};
}

Status teardown_topology(const std::string& labid) {
  Status first;
  for (Node node : kEveryNode) {
    Status s = delete_netns(netns_name(labid, node));
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace ergw::lab
