// What ergwd observes of its tunnels, BGP sessions and daemons at one moment:
// the typed snapshot behind the metrics, the API's read-only connection fields
// and the tracking of an apply. Filled by the daemon, read by the management
// plane; plain values, copied freely.
//
// Per connection, byte and packet totals are monotonic: the totals of SAs that
// were rekeyed or deleted stay added in (traffic_totals.h). Nothing here is
// keyed on SPIs or SA ids.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ergw::metrics {

// Packets the data plane dropped on a connection, by a fixed, bounded set of
// reasons (Azure reports "TS mismatch" drops per tunnel too). The data plane's
// own, finer reasons fold into these (drop_reason_of); `other` holds the rest.
enum class DropReason { ts_mismatch, replay, integrity, no_sa, other };
inline constexpr DropReason kDropReasons[] = {DropReason::ts_mismatch, DropReason::replay, DropReason::integrity,
                                              DropReason::no_sa, DropReason::other};
const char* drop_reason_label(DropReason reason);
// The bounded reason of a drop reason the fast path names (its per-connection
// reasons and the ESP engine's, e.g. "inner_selector", "replayed",
// "icv_mismatch", "no_outbound_sa").
DropReason drop_reason_of(std::string_view data_plane_reason);

struct TrafficCounters {
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
  // Every reason when the data plane reports drops per connection (the fast
  // path), none when it does not (kernel-libipsec, the kernel's XFRM).
  std::map<DropReason, uint64_t> drops;
};

struct ConnectionObservation {
  std::string name;
  std::string remote;     // the Azure gateway's tunnel address
  std::string mode;       // connectionMode: Default, InitiatorOnly, ResponderOnly
  std::string selectors;  // route_based, policy_based
  bool up = false;          // IKE SA established and every configured CHILD SA installed
  bool connecting = false;  // CONNECTING or PARTIAL: an IKE SA is being set up, or some CHILD SA missing
  bool dials = false;       // ergw initiates this connection
  uint32_t ike_sas = 0;     // established IKE SAs (Azure: Tunnel MMSA Count)
  uint32_t child_sas = 0;   // installed CHILD SAs (Azure: Tunnel QMSA Count)
  std::optional<int64_t> established_at;  // unix seconds, the IKE SA shown
  std::optional<int64_t> ike_rekey_at;    // unix seconds
  std::optional<int64_t> child_rekey_at;  // unix seconds, the soonest CHILD SA
  TrafficCounters traffic;                // monotonic
  std::map<std::string, uint64_t> ike_failures;  // failure reason -> count
  uint64_t ike_rekeys = 0;
  uint64_t child_rekeys = 0;
  std::string last_error;         // the last failure's code (psk_mismatch, ...), empty when none
  std::string last_error_reason;  // the same in words (authentication failed, ...)
  std::string last_error_hint;
  std::optional<int64_t> last_error_at;  // unix seconds
  // The PFS probe's state (kPfsProbeStates), empty when there is none.
  std::string pfs_probe;
};

// The PFS probe's states, as ergwd's status names them (pfs_probe.h).
inline constexpr const char* kPfsProbeStates[] = {"off",      "waiting",  "probing",      "verified",
                                                  "mismatch", "inconclusive", "not_probed"};

struct BgpPeerObservation {
  std::string peer;        // BIRD protocol name
  std::string connection;  // the connection whose tunnel carries it
  std::string state;       // Idle, Connect, Active, OpenSent, OpenConfirm, Established
  uint64_t routes_received = 0;
  uint64_t routes_accepted = 0;
  uint64_t routes_advertised = 0;
  std::optional<int64_t> uptime_seconds;  // while Established
};

struct DaemonObservation {
  bool charon_up = false;
  std::optional<bool> bird_up;  // nullopt: BIRD not needed (no BGP)
  std::string data_plane;       // kernel, libipsec, fastpath
};

struct Observation {
  int64_t taken_at = 0;  // unix seconds
  std::vector<ConnectionObservation> connections;
  std::vector<BgpPeerObservation> bgp_peers;
  DaemonObservation daemons;
};

// The configuration's side (the management service).
struct ConfigObservation {
  int64_t active_revision = 0;  // 0: none yet
  std::optional<int64_t> pending_revision;
  std::optional<int64_t> confirm_deadline;  // unix seconds
  uint64_t applies = 0;
  uint64_t apply_failures = 0;
  uint64_t auth_failures = 0;
  bool applying = false;             // charon and BIRD are taking a revision now
  int64_t heartbeat = 0;             // unix seconds: the daemon's loop last ran the service
};

// A failure reason as a label value: "authentication failed" -> authentication_failed.
std::string reason_label(const std::string& reason);

}  // namespace ergw::metrics
