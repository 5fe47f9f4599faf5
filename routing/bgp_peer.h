// One BGP session with an Azure VPN Gateway instance, described without any
// reference to the Azure connection model: ergwd fills it in from the policy
// compiler's output (Azure's ASN and fixed timers included), validate_peer()
// checks what BIRD needs, render_bird_config() turns it into BIRD 2 config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "common/secret.h"

namespace ergw::routing {

// Graceful restart (RFC 4724). Azure documents nothing about it,
// so ergw never claims to preserve forwarding across its own restart ("on"),
// which would make Azure keep routes towards a tunnel that may be gone.
// kAware (BIRD's default) only makes ergw a helper: if Azure advertises the
// capability, Azure's routes are kept for Azure's restart time while its
// gateway instance restarts; if Azure does not advertise it, aware has no
// effect. Long-lived GR (RFC 9494) is always off: it would keep stale routes
// for an hour. kOff is for operators who want routes withdrawn at once.
enum class GracefulRestart { kOff, kAware };

// What BIRD does when Azure sends more routes than import_limit.
// kBlock keeps the session and the routes already learned and drops the
// excess (logged by BIRD); kRestart and kDisable take the tunnel's routes down.
enum class ImportLimitAction { kBlock, kRestart, kDisable };

struct BgpPeer {
  // Short name, unique per BIRD instance; the BIRD protocol is "ergw_<name>".
  std::string name;

  uint32_t local_asn = 0;
  uint32_t peer_asn = 0;  // Azure's; 32-bit ASNs are allowed (RFC 6793).

  // Azure's BGP address: a GatewaySubnet private address, or a custom APIPA
  // address in 169.254.21.0-169.254.22.255.
  IpAddress peer_address;
  // ergw's BGP address (a loopback or APIPA address on this host).
  IpAddress local_address;
  // The TCP source address; defaults to local_address.
  std::optional<IpAddress> source_address;

  // Azure's BGP address sits behind the tunnel, not on a shared subnet, so the
  // session is multihop (eBGP default is directly connected only).
  bool multihop = true;
  int multihop_ttl = 0;  // 0: BIRD's default (64).

  // Written explicitly (BIRD would otherwise offer 240 s): Azure's timers are
  // fixed and it does not negotiate them down.
  int hold_time_seconds = 0;
  int keepalive_seconds = 0;

  std::optional<Secret> password;  // TCP MD5 (RFC 2385).

  GracefulRestart graceful_restart = GracefulRestart::kAware;

  // With APIPA addresses Azure never opens the session: ergw must connect,
  // and retries sooner than BIRD's default 120 s.
  bool must_initiate = false;

  // Toward the tunnel: the interface, and a next hop if it is not point-to-point.
  std::string tunnel_interface;
  std::optional<IpAddress> tunnel_next_hop;

  // On-prem prefixes announced to Azure on this connection (exact prefixes).
  std::vector<IpPrefix> export_prefixes;
  // The VNet's prefixes: never exported, whatever else is configured.
  std::vector<IpPrefix> vnet_prefixes;

  uint32_t import_limit = 1000;
  ImportLimitAction import_limit_action = ImportLimitAction::kBlock;

  // ergw's own kernel routing table, where learned routes are installed.
  uint32_t kernel_table = 0;

  // A backup session (the instance of an active-active Azure gateway that is
  // not preferred): its routes get a lower local preference (kBackupLocalPref,
  // BGP's default is 100), so BIRD selects them only while the preferred
  // session has none; and what ergw announces on it carries ergw's ASN once
  // more (AS path prepending, which Azure honours: a shorter path wins), so
  // Azure sends through the other instance while that one has the routes.
  bool backup = false;

  // For the reconciler: a changed peer means a new BIRD config.
  friend bool operator==(const BgpPeer&, const BgpPeer&) = default;
};

// The BIRD protocol name of a peer.
std::string protocol_name(const BgpPeer& peer);

// BIRD's wait before a session that failed with an error starts again
// (`error wait time`, `error forget time`); see render_bgp() for the choice.
inline constexpr int kErrorWaitMinSeconds = 5;
inline constexpr int kErrorWaitMaxSeconds = 60;
inline constexpr int kErrorForgetSeconds = 300;
inline constexpr int kBackupLocalPref = 50;

// One BIRD instance: global settings plus its peers.
struct BirdConfig {
  IpAddress router_id;  // an IPv4 address; usually the first peer's local_address
  std::vector<BgpPeer> peers;
  // Where BIRD logs; empty means syslog.
  std::string log_file;

  friend bool operator==(const BirdConfig&, const BirdConfig&) = default;
};

}  // namespace ergw::routing
