// HealthTracker: what went wrong with each configured connection, and when,
// from charon's events (log, ike-updown, child-updown, ike-rekey,
// child-rekey) and from ergwd's own dealings with charon.
//
// Attribution. charon names a log line by its IKE SA's connection. When ergw,
// as responder, refuses the peer's first message (no acceptable proposal in
// IKE_SA_INIT, no connection expecting the peer's identity in IKE_AUTH) the
// IKE SA has no connection yet and charon calls it "(unnamed)". Such lines
// are kept per IKE SA (its unique id) together with what the lines before
// them said (the peer's address from "... is initiating an IKE_SA", the
// identities, the proposals offered and accepted), and the failure is
// attributed to the connection whose Azure tunnel address is the peer's. A
// failure no connection can be held responsible for (an address no connection
// has) is kept apart and shown as such.
//
// Routine deletes. Whichever side initiates an IKE rekey deletes the old IKE
// SA afterwards; charon logs "received DELETE for IKE_SA" for it like for any
// delete. The old SA's unique id is known from the ike-rekey event that comes
// first, so that delete is not recorded as a failure.
//
// Unique ids restart from 1 with charon: charon_restarted() forgets them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gateway/ergwd/failure_reason.h"
#include "vici/message.h"

namespace ergw::gateway {

// What the tracker needs of a configured connection.
struct TrackedConnection {
  std::string name;
  std::string remote;                 // Azure's tunnel address
  std::vector<std::string> children;  // CHILD config names (charon may name a line by one)
  std::string local_id;               // the identity ergw presents
  std::string remote_id;              // the identity ergw expects of Azure
};

struct FailureRecord {
  TunnelFailure failure = TunnelFailure::ike_failed;
  std::string detail;    // charon's own line (or its reply)
  std::string observed;  // what charon saw that explains it, e.g. what the peer offered
  std::chrono::system_clock::time_point at{};
};

struct ConnectionHealth {
  std::optional<FailureRecord> last_error;  // cleared when a CHILD SA comes up
  // The same, but kept after the tunnel recovers: when it last failed, and
  // why (the metrics' last failure).
  std::optional<FailureRecord> last_failure;
  std::string last_change;                  // "IKE up", "CHILD down", ...
  std::chrono::system_clock::time_point last_change_at{};
  std::map<TunnelFailure, uint64_t> failures;  // every failure recorded since ergwd started
  uint64_t ike_rekeys = 0;
  uint64_t child_rekeys = 0;
};

// A failure no configured connection can be held responsible for.
struct UnattributedFailure {
  FailureRecord record;
  std::string peer_address;  // "" when charon did not say
};

class HealthTracker {
 public:
  // Records are stamped with the clock's time of day.
  explicit HealthTracker(const Clock& clock);

  // The configured connections; the health of connections no longer
  // configured is dropped.
  void set_connections(std::vector<TrackedConnection> connections);
  // charon (re)started: its unique ids begin again.
  void charon_restarted();
  // Every vici event ergwd subscribes to; others are ignored.
  void on_event(const std::string& name, const vici::Message& message);

  // A failure ergwd met itself (charon refused a connection, a PSK, ...).
  void record(const std::string& connection, TunnelFailure failure, std::string detail, std::string observed = {});
  // Forgets the connection's last error if it is `failure` (e.g. a PSK that
  // charon took on the next pass).
  void clear_error(const std::string& connection, TunnelFailure failure);

  const std::map<std::string, ConnectionHealth>& connections() const { return health_; }
  const ConnectionHealth* find(const std::string& connection) const;
  // The most recent first, at most kUnattributedKept.
  const std::deque<UnattributedFailure>& unattributed() const { return unattributed_; }

  static constexpr size_t kUnattributedKept = 8;
  static constexpr size_t kSaContextsKept = 256;
  // A generic failure ("IKE SA failed") this soon after a specific one adds
  // nothing: the specific one stays.
  static constexpr std::chrono::seconds kGenericWindow{5};

 private:
  struct PendingFailure {
    TunnelFailure failure;
    std::string detail;
    std::chrono::system_clock::time_point at;
  };
  // What the lines of one IKE SA said so far.
  struct SaContext {
    std::string connection;  // once known
    std::optional<std::string> peer_address;
    std::optional<std::string> peer_identity;
    std::optional<std::string> local_identity;
    std::optional<std::string> requested_identity;
    std::optional<std::string> offered_proposals;
    std::optional<std::string> accepted_proposals;
    bool peer_initiated = false;  // the peer dialled (ergw responds)
    bool established = false;     // it came up once
    bool rekeyed = false;         // replaced by a rekey: its DELETE is routine
    std::vector<PendingFailure> pending;  // waiting for the connection to be known
  };

  void on_log(const vici::Message& message);
  void on_updown(const std::string& event, const vici::Message& message);
  void on_ike_rekey(const vici::Message& message);
  void on_child_rekey(const vici::Message& message);

  SaContext& context(uint64_t uniqueid);
  // The connection a name charon uses (connection or CHILD config) stands
  // for; "" when none of ours.
  std::string resolve(const std::string& name) const;
  std::string by_peer_address(const std::string& address) const;
  const TrackedConnection* tracked(const std::string& name) const;
  // Whether more is to come about an IKE SA: while it lives, a later line or
  // event may still name its connection; once it is gone, nothing will.
  enum class SaFate { still_there, gone };
  // Attributes the context's pending failures if its connection is known now;
  // for an IKE SA that is gone, the rest become unattributed ones.
  void settle(SaContext& sa, SaFate fate);
  void commit(const std::string& connection, const SaContext* sa, PendingFailure failure);
  void keep_unattributed(const SaContext* sa, PendingFailure failure);
  std::string observed(const std::string& connection, const SaContext* sa, TunnelFailure failure) const;

  const Clock& clock_;
  std::vector<TrackedConnection> tracked_;
  std::map<std::string, ConnectionHealth> health_;
  std::map<uint64_t, SaContext> contexts_;
  std::deque<uint64_t> context_order_;  // oldest first, for eviction
  std::deque<UnattributedFailure> unattributed_;
};

}  // namespace ergw::gateway
