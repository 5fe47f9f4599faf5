// The Azure connection model: what ergw knows of one site-to-site connection,
// read from objects as Azure prints them (see connection_reader.h). Field names
// follow the ARM spec; the facts behind defaults and ranges are in
// docs/azure-facts.md (constants in azure_facts.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "gateway/policy/azure_enums.h"
#include "gateway/policy/azure_facts.h"
#include "gateway/policy/secret.h"

namespace ergw::policy {

// One custom IPsec/IKE policy (ARM IpsecPolicy; all eight fields required).
struct IpsecPolicy {
  int64_t sa_lifetime_seconds = 0;     // CHILD SA lifetime, >= kAzureMinSaLifetimeSeconds
  int64_t sa_data_size_kilobytes = 0;  // CHILD SA volume, >= kAzureMinSaDataSizeKilobytes
  IpsecEncryption ipsec_encryption = IpsecEncryption::AES256;
  IpsecIntegrity ipsec_integrity = IpsecIntegrity::SHA256;
  IkeEncryption ike_encryption = IkeEncryption::AES256;
  IkeIntegrity ike_integrity = IkeIntegrity::SHA256;
  DhGroup dh_group = DhGroup::DHGroup14;
  PfsGroup pfs_group = PfsGroup::None;
  bool operator==(const IpsecPolicy&) const = default;
};

// A custom policy as the input gave it. A field that is missing or holds an
// invalid value is empty (the reader has reported it), so the rules can still
// check the fields that were given, and a policy with a bad value is still a
// policy that was set (no "no custom policy" warning for it).
struct IpsecPolicyInput {
  std::optional<int64_t> sa_lifetime_seconds;
  std::optional<int64_t> sa_data_size_kilobytes;
  std::optional<IpsecEncryption> ipsec_encryption;
  std::optional<IpsecIntegrity> ipsec_integrity;
  std::optional<IkeEncryption> ike_encryption;
  std::optional<IkeIntegrity> ike_integrity;
  std::optional<DhGroup> dh_group;
  std::optional<PfsGroup> pfs_group;
  bool operator==(const IpsecPolicyInput&) const = default;

  // The policy, when every field was given and valid.
  std::optional<IpsecPolicy> complete() const;
};

// Selectors as Azure names them: "local" is Azure's side (the VNet), "remote"
// is the on-prem side.
struct TrafficSelectorPolicy {
  std::vector<IpPrefix> local_address_ranges;
  std::vector<IpPrefix> remote_address_ranges;
};

struct CustomBgpAddress {
  std::string ip_configuration_id;
  IpAddress address;
};

// The connection object (Microsoft.Network/connections).
struct AzureConnection {
  std::string name;
  std::string source_path;  // where its fields are in the input, for diagnostics
  ConnectionType connection_type = ConnectionType::IPsec;
  ConnectionProtocol connection_protocol = ConnectionProtocol::IKEv2;
  Secret shared_key;
  std::optional<IpsecPolicyInput> ipsec_policy;  // set when the input gives a custom policy
  std::string ipsec_policy_path;                  // diagnostics path of the policy
  int dpd_timeout_seconds = kAzureDefaultDpdTimeoutSeconds;
  ConnectionMode connection_mode = ConnectionMode::Default;
  bool use_policy_based_traffic_selectors = false;
  std::vector<TrafficSelectorPolicy> traffic_selector_policies;
  bool enable_bgp = false;
  bool use_local_azure_ip_address = false;
  std::vector<CustomBgpAddress> gateway_custom_bgp_ip_addresses;
  // Paths of the NAT rule lists that are set (ingressNatRules, egressNatRules
  // as the input spells them); empty when there are none.
  std::vector<std::string> nat_rule_paths;

  // The custom policy when one is given and complete (validation refuses a
  // configuration whose policy is not).
  std::optional<IpsecPolicy> custom_policy() const {
    return ipsec_policy ? ipsec_policy->complete() : std::nullopt;
  }
};

// What ergw needs of the Azure VPN gateway (virtualNetworkGateways): where to
// send IKE, and its BGP identity.
struct AzureGateway {
  std::string source_path;
  std::vector<IpAddress> tunnel_ip_addresses;  // one per instance; two when active-active
  bool active_active = false;
  uint32_t asn = kAzureDefaultAsn;
  std::vector<IpAddress> bgp_peering_addresses;  // GatewaySubnet addresses, one per instance
  std::vector<IpPrefix> vnet_prefixes;           // what the VNet holds (never exported to Azure)
  // Azure's IKE identity, one for all instances or one per tunnel address;
  // empty: its tunnel address (what Azure presents unless told otherwise).
  std::vector<std::string> ike_identities;
};

// ergw's own side (what Azure calls the local network gateway).
struct LocalSide {
  std::string source_path;
  std::optional<IpAddress> address;  // the appliance's IKE address toward Azure
  std::optional<std::string> ike_identity;  // this appliance's IKE identity; default: address
  std::vector<IpPrefix> prefixes;    // on-prem prefixes behind the appliance
  std::optional<uint32_t> asn;
  std::optional<IpAddress> bgp_peering_address;
  std::vector<IpPrefix> express_route_prefixes;  // what on-prem already advertises over ExpressRoute
};

enum class DataPlane { automatic, kernel, libipsec, fastpath };

// One connection of ergw's configuration file.
struct ConnectionSpec {
  std::string name;
  std::string source_path;
  AzureConnection azure;
  AzureGateway gateway;
  LocalSide local;
  std::optional<uint32_t> interface_id;  // XFRM if_id; assigned when not given
  // ergw's own: probe the PFS setting right after the tunnel comes up
  // (pfsProbe); unset: the appliance's setting.
  std::optional<bool> pfs_probe;
  // ergw's own: the MSS that forwarded TCP SYNs into and out of the tunnel
  // are clamped to (tcpMss, 536..1460); 0: no clamp; unset: Azure's 1350, or
  // the tunnel MTU minus 40 when that is smaller (docs/ergwd.md, "TCP MSS
  // clamping").
  std::optional<int> tcp_mss;
  // Active-active: the instance (index into gateway.tunnel_ip_addresses)
  // whose tunnel carries the traffic while it is up; none: both (ECMP).
  std::optional<size_t> preferred_instance;
  // ergw's own: the TCP MD5 password (RFC 2385) of the connection's BGP
  // session (bgpPassword, or bgpPasswordFile). Azure's VPN gateway signs no
  // BGP session, so this is for peers that are not Azure's gateway
  // (docs/bgp.md, "TCP MD5 password").
  std::optional<Secret> bgp_password;
  std::string bgp_password_path;  // where it was given, for diagnostics
  // True when the input was a bare Azure connection object: addresses are then unknown.
  bool bare_connection_object = false;
};

// Azure's BGP address for this connection: the connection's custom APIPA
// address when it sets one, else the gateway's (GatewaySubnet) address.
std::optional<IpAddress> azure_bgp_address(const ConnectionSpec& spec);
// Azure's BGP address of instance `instance` (index into the gateway's tunnel
// addresses) of an active-active gateway: the connection's custom APIPA
// address for that instance (gatewayCustomBgpIpAddresses, one per instance's
// IP configuration, in instance order), else the instance's GatewaySubnet
// address (bgpSettings.bgpPeeringAddress, "10.12.255.4,10.12.255.5"); nullopt
// when the configuration names fewer addresses than instances.
std::optional<IpAddress> azure_bgp_address_of_instance(const ConnectionSpec& spec, size_t instance);

struct ApplianceConfig {
  std::string name = "ergw";
  DataPlane data_plane = DataPlane::automatic;
  bool pfs_probe = true;  // appliance.pfsProbe: the default of every connection
  std::vector<ConnectionSpec> connections;
};

}  // namespace ergw::policy
