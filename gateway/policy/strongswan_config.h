// The typed strongSwan configuration the compiler produces: what vici's
// load-conn and load-shared take, and what swanctl.conf spells the same way
// (strongSwan 5.9.8; why each value is what it is: docs/azure-policy.md). Every
// derived number carries an explanation that is rendered as a comment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "gateway/policy/secret.h"

namespace ergw::policy {

struct ChildConfig {
  std::string name;
  std::vector<std::string> esp_proposals;
  std::vector<std::string> local_ts;
  std::vector<std::string> remote_ts;
  int64_t rekey_time = 0;  // seconds
  int64_t life_time = 0;
  int64_t rand_time = 0;
  uint64_t rekey_bytes = 0;
  uint64_t life_bytes = 0;
  std::string dpd_action = "clear";    // clear | trap | restart
  std::string start_action = "none";   // none | trap | start
  std::string close_action = "none";   // none | trap | start
  uint32_t if_id = 0;                  // 0: none (policy-based)
  std::string mode = "tunnel";
  std::vector<std::string> comments;   // why the numbers are what they are
};

struct IkeConnectionConfig {
  std::string name;
  int version = 2;
  std::vector<std::string> local_addrs;
  std::vector<std::string> remote_addrs;
  std::vector<std::string> proposals;
  int64_t rekey_time = 0;
  int64_t over_time = 0;
  int64_t rand_time = 0;
  int64_t reauth_time = 0;
  int64_t dpd_delay = 0;
  int keyingtries = 0;         // 0: forever
  bool mobike = false;
  std::string unique = "replace";
  std::string fragmentation = "yes";
  std::string local_id;
  std::string remote_id;
  std::vector<ChildConfig> children;
  std::vector<std::string> comments;
  bool peer_dials = false;  // connectionMode: the other side initiates too (not a swanctl setting)
  // Not swanctl settings either: ergwd's PFS probe (pfsProbe) and the PFS
  // group in Azure's spelling ("None" without a custom policy) for its findings.
  bool pfs_probe = true;
  std::string pfs_group = "None";
  // ergwd's TCP MSS clamp of the tunnel's forwarded TCP (tcpMss): unset, the
  // default; 0, none.
  std::optional<int> tcp_mss;
};

struct SharedSecretConfig {
  std::string name;  // e.g. ike-<connection>
  std::vector<std::string> owners;
  Secret secret;
};

// charon-wide settings the connections need (strongswan.conf): IKEv2 detects a
// dead peer by retransmission, which is global, not per connection.
struct CharonSettings {
  double retransmit_timeout = 4.0;
  double retransmit_base = 1.8;
  int retransmit_tries = 5;
  bool install_routes = false;  // ergw installs routes, never charon
  std::vector<std::string> comments;
};

// Where ergw routes traffic into a route-based tunnel when BGP is off.
struct TunnelRoute {
  IpPrefix prefix;
  std::string connection;  // IKE connection name
  uint32_t if_id = 0;
  // 0: carried whenever the tunnel is up (several such tunnels: ECMP);
  // 1: a backup, carried only while no tunnel with 0 for the prefix is up
  // (the other instance of an active-active gateway with preferredInstance).
  uint8_t preference = 0;
};

// What BGP needs from one connection (filled in only when enableBgp).
struct BgpPeerIntent {
  std::string connection;
  uint32_t local_asn = 0;
  uint32_t peer_asn = 0;
  IpAddress local_address;
  IpAddress peer_address;
  bool apipa = false;       // an APIPA address at either end: Azure never opens the session, ergw must
  bool multihop = false;    // peer not on a shared link (GatewaySubnet address)
  int hold_time_seconds = 0;  // Azure's fixed BGP timers
  int keepalive_seconds = 0;
  std::vector<IpPrefix> export_prefixes;
  std::vector<IpPrefix> vnet_prefixes;
  uint32_t if_id = 0;
  // 1: the instance that is not preferredInstance - its routes are taken
  // only when the preferred session has none, and Azure is asked to prefer
  // the other session (AS path prepending).
  uint8_t preference = 0;
  std::optional<Secret> password;  // TCP MD5 (bgpPassword)
};

struct CompiledConfiguration {
  std::vector<IkeConnectionConfig> connections;
  std::vector<SharedSecretConfig> secrets;
  CharonSettings charon;
  std::vector<TunnelRoute> routes;
  std::vector<BgpPeerIntent> bgp_peers;
};

}  // namespace ergw::policy
