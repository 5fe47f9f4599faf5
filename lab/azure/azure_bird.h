// The simulated Azure VPN gateway's BGP speaker: a BIRD in the azure-gw
// namespace configured the way Azure documents BGP toward a local network
// gateway (sources in docs/lab.md): the gateway's ASN (65515 unless changed),
// its BGP address on lo (a GatewaySubnet-style private address, or a custom
// APIPA 169.254.21.x), passive toward APIPA peers (Azure never opens those
// sessions), fixed timers hold 180 / keepalive 60, the VNet prefixes
// announced, on-prem prefixes learned (up to 4,000, above which Azure drops
// the session) and installed into the kernel, and a host route to the
// appliance's BGP address through the tunnel ("Azure VPN Gateway adds a host
// route internally to the on-premises BGP peer IP over the IPsec tunnel").
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "lab/lab.h"
#include "gateway/policy/azure_connection.h"
#include "routing/protocol_status.h"
#include "routing/route.h"

namespace ergw::azure_lab {

// What Azure's side of the session is, derived from the connection.
struct AzureBgpSide {
  uint32_t asn = 65515;
  IpAddress address;         // Azure's BGP address (on azure-gw's lo)
  bool apipa = false;        // an APIPA address at either end: passive
  uint32_t peer_asn = 0;     // the appliance's
  IpAddress peer_address;    // the appliance's BGP address
  std::vector<IpPrefix> vnet_prefixes;
  // The connection's bgpPassword, as the peer's own configuration holds it
  // (TCP MD5). Azure's VPN gateway has no such setting: with one the lab's
  // BGP speaker stands for a peer that is not Azure's gateway.
  std::optional<Secret> password;
};

// Instance `instance` of the gateway (active-active: each instance speaks BGP
// from its own address: the instance's entry of gatewayCustomBgpIpAddresses
// (APIPA), else of bgpSettings.bgpPeeringAddress, both in instance order).
// nullopt when the connection does not enable BGP or names no address for
// that instance.
std::optional<AzureBgpSide> azure_bgp_side(const policy::ConnectionSpec& spec, size_t instance = 0);

// The protocol name of the session in the Azure-side BIRD.
inline constexpr const char* kAzureBgpProtocol = "azure_onprem";
// The static protocol whose routes are the VNet prefixes Azure announces.
inline constexpr const char* kAzureVnetProtocol = "azure_vnet";

// BIRD 2 configuration text for the Azure side.
std::string render_azure_bird_config(const AzureBgpSide& side, const std::string& log_file);

class AzureBird {
 public:
  // Puts the BGP address on the instance's lo and starts BIRD there as a lab
  // daemon `name` (supervised; the lab's teardown stops it), its files in
  // <state>/<name>/.
  static Result<std::unique_ptr<AzureBird>> start(lab::Lab& lab, const AzureBgpSide& side,
                                                  lab::Node node = lab::Node::azure_gw,
                                                  const std::string& name = "azure-bird");

  const std::string& socket_path() const { return socket_path_; }
  const AzureBgpSide& side() const { return side_; }
  // Azure tears the BGP session down with the connection: `disable` while
  // the tunnel is down, `enable` when it is back.
  Status set_session_enabled(bool enabled);
  bool session_enabled() const { return enabled_; }
  // Announces the VNet prefixes, or withdraws them (the session stays up),
  // as when an address space is removed from the VNet.
  Status set_vnet_announced(bool announced);
  Result<routing::ProtocolStatus> session();
  // Routes the Azure side learned from the appliance.
  Result<std::vector<routing::Route>> learned_routes();

 private:
  AzureBird() = default;
  std::string socket_path_;
  AzureBgpSide side_;
  std::atomic<bool> enabled_{true};  // set by the lab's watcher thread
};

}  // namespace ergw::azure_lab
