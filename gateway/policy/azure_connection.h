// The Azure connection model: what ergw knows of one site-to-site connection,
// read from objects as Azure prints them (see connection_reader.h). Field names
// follow the ARM spec; comments give the Azure source (../shared/design/azure.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "gateway/policy/azure_enums.h"
#include "gateway/policy/secret.h"

namespace ergw::policy {

// One custom IPsec/IKE policy (ARM IpsecPolicy; all eight fields required).
struct IpsecPolicy {
  int64_t sa_lifetime_seconds = 0;     // CHILD SA lifetime, >= 300
  int64_t sa_data_size_kilobytes = 0;  // CHILD SA volume, >= 1024
  IpsecEncryption ipsec_encryption = IpsecEncryption::AES256;
  IpsecIntegrity ipsec_integrity = IpsecIntegrity::SHA256;
  IkeEncryption ike_encryption = IkeEncryption::AES256;
  IkeIntegrity ike_integrity = IkeIntegrity::SHA256;
  DhGroup dh_group = DhGroup::DHGroup14;
  PfsGroup pfs_group = PfsGroup::None;
  bool operator==(const IpsecPolicy&) const = default;
};

// Azure's defaults for the CHILD SA when no custom policy is set (azure.md §2.2).
inline constexpr int64_t kAzureDefaultSaLifetimeSeconds = 27'000;
inline constexpr int64_t kAzureDefaultSaDataSizeKilobytes = 102'400'000;
// Fixed, not configurable on Azure (azure.md §1.3).
inline constexpr int64_t kAzureIkeSaLifetimeSeconds = 28'800;
inline constexpr int kAzureDefaultDpdTimeoutSeconds = 45;
inline constexpr uint32_t kAzureDefaultAsn = 65'515;

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
  std::optional<IpsecPolicy> ipsec_policy;
  std::string ipsec_policy_path;  // diagnostics path of the policy
  int dpd_timeout_seconds = kAzureDefaultDpdTimeoutSeconds;
  ConnectionMode connection_mode = ConnectionMode::Default;
  bool use_policy_based_traffic_selectors = false;
  std::vector<TrafficSelectorPolicy> traffic_selector_policies;
  bool enable_bgp = false;
  bool use_local_azure_ip_address = false;
  std::vector<CustomBgpAddress> gateway_custom_bgp_ip_addresses;
  bool has_nat_rules = false;
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
};

// ergw's own side (what Azure calls the local network gateway).
struct LocalSide {
  std::string source_path;
  std::optional<IpAddress> address;  // the appliance's IKE address toward Azure
  std::vector<IpPrefix> prefixes;    // on-prem prefixes behind the appliance
  std::optional<uint32_t> asn;
  std::optional<IpAddress> bgp_peering_address;
  std::vector<IpPrefix> express_route_prefixes;  // what on-prem already advertises over ExpressRoute
};

enum class DataPlane { automatic, kernel, libipsec };

// One connection of ergw's configuration file.
struct ConnectionSpec {
  std::string name;
  std::string source_path;
  AzureConnection azure;
  AzureGateway gateway;
  LocalSide local;
  std::optional<uint32_t> interface_id;  // XFRM if_id; assigned when not given
  // True when the input was a bare Azure connection object: addresses are then unknown.
  bool bare_connection_object = false;
};

struct ApplianceConfig {
  std::string name = "ergw";
  DataPlane data_plane = DataPlane::automatic;
  std::vector<ConnectionSpec> connections;
};

}  // namespace ergw::policy
