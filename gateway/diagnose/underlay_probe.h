// Active probes of the underlay from the appliance's own network namespace:
// the path to Azure's tunnel address (over ExpressRoute private peering: the
// gateway's private address, which Microsoft says should answer ping), the
// largest packet that crosses it with DF set, and whether anything answers
// "port unreachable" on IKE's ports. Blocking (each probe waits up to a
// second): run off any event loop (diagnoser.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/ip_prefix.h"

namespace ergw::diagnose {

struct EchoResult {
  bool replied = false;
  std::optional<int> frag_needed_mtu;  // ICMP "fragmentation needed" came back, with this next-hop MTU
  std::string error;                   // the socket refused (EMSGSIZE: larger than the local device)
};

// One ICMP echo of `ip_size` bytes (IPv4 header included) with DF set
// (IP_PMTUDISC_PROBE: the cached path MTU is ignored), answered within `timeout`.
EchoResult echo_with_df(const IpAddress& peer, int ip_size, std::chrono::milliseconds timeout);

struct UnderlayEvidence {
  std::string peer;
  int small_sent = 0;   // 84-byte echoes sent until one came back
  bool reachable = false;
  std::string error;    // why no echo could be sent
  // Path MTU (only when reachable): the largest size answered, the smallest
  // lost, and the MTU an ICMP "fragmentation needed" named.
  int target = 1500;
  int largest_answered = 0;
  std::optional<int> smallest_lost;
  std::optional<int> frag_needed_mtu;
};

// Pings `peer` (up to 3 small echoes), then with DF at `target` bytes; when
// that is lost, searches for the largest size that crosses (to 8 bytes).
UnderlayEvidence probe_underlay(const IpAddress& peer, int target = 1500,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

// A NAT-T keepalive (one 0xFF byte, RFC 3948 section 4) sent from an
// ephemeral port to `port`: IKE daemons ignore it. "refused" when ICMP port
// unreachable came back (nothing listens there, or a firewall rejects),
// "silent" otherwise (something may listen, or a firewall drops).
struct PortProbe {
  int port = 0;
  bool refused = false;
  std::string error;
};
PortProbe probe_udp_port(const IpAddress& peer, int port,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

}  // namespace ergw::diagnose
