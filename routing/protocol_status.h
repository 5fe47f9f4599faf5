// Typed state of BIRD protocols, from `show protocols [all]`, and of the
// daemon, from `show status` (BIRD 2.0.12 nest/proto.c, proto/bgp/bgp.c).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "routing/reply.h"

namespace ergw::routing {

// Protocol state column: down|flush|start|up|stop.
enum class ProtocolState { kDown, kFlush, kStart, kUp, kStop, kUnknown };
// BGP FSM state (RFC 4271 §8.2.2) as BIRD names it, plus BIRD's own Close,
// Down and Passive.
enum class BgpState { kIdle, kConnect, kActive, kOpenSent, kOpenConfirm, kEstablished, kClose, kDown, kPassive, kUnknown };

const char* to_string(ProtocolState state);
const char* to_string(BgpState state);
ProtocolState parse_protocol_state(std::string_view text);
BgpState parse_bgp_state(std::string_view text);

// BIRD's timestamps are the daemon's local time without a zone; keep them as
// civil time and compute differences only against BIRD's own clock (show status).
using BirdTime = std::chrono::local_seconds;
// "2026-11-22 07:04:02", "2026-11-22 07:04:02.255", "2026-11-22"; nullopt for
// time-only short formats.
std::optional<BirdTime> parse_bird_time(std::string_view text);

struct RouteCounts {
  uint64_t imported = 0;
  uint64_t filtered = 0;
  uint64_t exported = 0;
  uint64_t preferred = 0;
};

struct ChannelStatus {
  std::string name;   // "ipv4"
  std::string state;  // "UP", "DOWN", ...
  std::string table;
  std::string input_filter;
  std::string output_filter;
  std::optional<RouteCounts> routes;  // shown only while the channel is up
  std::optional<uint64_t> import_limit;
  std::string import_limit_action;
};

struct BgpSessionStatus {
  BgpState state = BgpState::kUnknown;
  std::optional<IpAddress> neighbor_address;
  std::optional<uint32_t> neighbor_as;
  std::optional<uint32_t> local_as;
  std::optional<IpAddress> neighbor_id;
  std::optional<IpAddress> source_address;
  std::string session;                 // "external multihop AS4"
  std::optional<int> hold_time;        // negotiated, from "Hold timer: 144.869/180"
  std::optional<int> keepalive_time;   // negotiated, from "Keepalive timer: 37.063/60"
  std::string last_error;              // "Received: Bad peer AS"; empty if none
  // While BIRD holds the session back after errors ("Error wait: 3.210/5"):
  // the seconds left and the whole wait (it doubles while errors repeat).
  std::optional<double> error_wait_left;
  std::optional<int> error_wait;
};

struct ProtocolStatus {
  std::string name;
  std::string protocol;  // "BGP", "Static", "Kernel", "Device", ...
  std::string table;     // "---" for BGP in 2.0.12: see the channels
  ProtocolState state = ProtocolState::kUnknown;
  std::string since;     // as BIRD printed it
  std::optional<BirdTime> since_time;
  std::string info;      // "Established", "Idle          Received: Bad peer AS", ...
  std::optional<BgpSessionStatus> bgp;  // only from `show protocols all`, BGP only
  std::vector<ChannelStatus> channels;  // only from `show protocols all`

  const ChannelStatus* channel(std::string_view name) const;
};

// `show protocols` or `show protocols all`. 8003 (no protocols match) is an
// empty list; other error replies are errors carrying BIRD's message.
Result<std::vector<ProtocolStatus>> parse_show_protocols(const Reply& reply);

struct DaemonStatus {
  std::string version;  // "BIRD 2.0.12"
  std::optional<IpAddress> router_id;
  std::optional<BirdTime> server_time;
  std::optional<BirdTime> last_reboot;
  std::optional<BirdTime> last_reconfiguration;
  std::string message;  // final line: "Daemon is up and running"
};

Result<DaemonStatus> parse_show_status(const Reply& reply);

// How long a protocol has been in its current state (Established, Active,
// ...) by BIRD's clock: the time since its `since` column. An uptime only
// while the session is Established.
std::optional<std::chrono::seconds> time_in_state(const ProtocolStatus& protocol, const DaemonStatus& daemon);

}  // namespace ergw::routing
