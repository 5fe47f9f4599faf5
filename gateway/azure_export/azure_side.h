// The Azure side of ergw's configuration: the resources an engineer must
// create on Azure (a local network gateway and a connection per ergw
// connection) and what the existing VPN gateway must already be. Built by
// plan_azure_side() (plan.h); rendered as az commands (az_script.h), an ARM
// template (arm_template.h) or Bicep (bicep_template.h). The field names are
// Azure's; docs/azure-export.md maps each one to its Microsoft source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "gateway/policy/azure_connection.h"
#include "gateway/policy/secret.h"

namespace ergw::azure_export {

// Microsoft.Network/localNetworkGateways: Azure's picture of this appliance.
struct LocalNetworkGateway {
  std::string name;
  IpAddress gateway_ip_address;                  // the appliance's IKE address as Azure reaches it
  std::vector<IpPrefix> address_prefixes;        // localNetworkAddressSpace.addressPrefixes
  std::optional<uint32_t> asn;                   // bgpSettings.asn
  std::optional<IpAddress> bgp_peering_address;  // bgpSettings.bgpPeeringAddress
};

// A gateway IP configuration's custom APIPA BGP address
// (gatewayCustomBgpIpAddresses[]). The configuration is named either by its
// full resource id or by its name on the VPN gateway (e.g. "default").
struct CustomBgpAddress {
  std::string ip_configuration;  // a resource id ("/subscriptions/...") or a name
  IpAddress address;
  bool ip_configuration_is_id() const { return !ip_configuration.empty() && ip_configuration.front() == '/'; }
};

// Microsoft.Network/connections, connectionType IPsec.
struct Connection {
  std::string name;                   // the Azure resource name
  std::string ergw_name;              // the ergw connection it comes from
  std::string source_path;            // where it is in ergw's configuration
  std::string local_network_gateway;  // name of the LocalNetworkGateway it connects to
  std::string vpn_gateway;            // name of the existing VPN gateway; empty: a parameter without default
  std::string vpn_gateway_parameter;  // the template parameter / script variable that names it
  std::string shared_key_parameter;   // the template parameter / script variable that holds the PSK
  policy::Secret shared_key;          // empty unless the export includes it
  policy::ConnectionProtocol connection_protocol = policy::ConnectionProtocol::IKEv2;
  std::optional<policy::IpsecPolicy> ipsec_policy;  // nullopt: Azure's default offers
  int dpd_timeout_seconds = 0;
  policy::ConnectionMode connection_mode = policy::ConnectionMode::Default;
  bool enable_bgp = false;
  bool use_policy_based_traffic_selectors = false;
  std::vector<policy::TrafficSelectorPolicy> traffic_selector_policies;
  bool use_local_azure_ip_address = false;  // S2S over ExpressRoute private peering
  std::vector<CustomBgpAddress> gateway_custom_bgp_ip_addresses;
};

// A property the existing VPN gateway must have for a connection to work;
// ergw never redeploys the gateway, so these are checked, not set.
struct GatewayRequirement {
  std::string vpn_gateway_parameter;  // which gateway
  // A JMESPath query over `az network vnet-gateway show` (Azure's property
  // names, flattened as az prints them) and the value it must print with
  // `-o tsv`.
  std::string query;
  std::string expected;
  std::string reason;  // why, for the engineer
};

struct AzureSide {
  std::vector<LocalNetworkGateway> local_network_gateways;
  std::vector<Connection> connections;
  std::vector<GatewayRequirement> gateway_requirements;
  std::string resource_group;  // empty: a placeholder the engineer fills in
  bool includes_shared_keys = false;
};

}  // namespace ergw::azure_export
