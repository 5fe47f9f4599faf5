#include "gateway/ergwd/health.h"

#include <algorithm>

#include "common/ip_prefix.h"
#include "gateway/ergwd/log.h"
#include "vici/sa_info.h"

namespace ergw::gateway {
namespace {

// charon's name for an IKE SA that has no connection yet (ike_sa.c get_name).
constexpr std::string_view kUnnamed = "(unnamed)";
// Failures of one IKE SA that wait for its connection to be known.
constexpr size_t kPendingPerSa = 4;

bool same_address(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const auto pa = IpAddress::parse(a);
  const auto pb = IpAddress::parse(b);
  return pa && pb && *pa == *pb;
}

template <typename T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

}  // namespace

HealthTracker::HealthTracker(const Clock& clock) : clock_(clock) {}

void HealthTracker::set_connections(std::vector<TrackedConnection> connections) {
  tracked_ = std::move(connections);
  for (auto it = health_.begin(); it != health_.end();) {
    it = tracked(it->first) ? std::next(it) : health_.erase(it);
  }
  for (auto& [id, sa] : contexts_) {
    if (!sa.connection.empty() && !tracked(sa.connection)) sa.connection.clear();
  }
}

void HealthTracker::charon_restarted() {
  contexts_.clear();
  context_order_.clear();
}

const TrackedConnection* HealthTracker::tracked(const std::string& name) const {
  for (const auto& t : tracked_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const ConnectionHealth* HealthTracker::find(const std::string& connection) const {
  auto it = health_.find(connection);
  return it == health_.end() ? nullptr : &it->second;
}

std::string HealthTracker::resolve(const std::string& name) const {
  if (tracked(name)) return name;
  for (const auto& t : tracked_) {
    if (std::find(t.children.begin(), t.children.end(), name) != t.children.end()) return t.name;
  }
  return "";
}

std::string HealthTracker::by_peer_address(const std::string& address) const {
  for (const auto& t : tracked_) {
    if (!t.remote.empty() && same_address(t.remote, address)) return t.name;
  }
  return "";
}

HealthTracker::SaContext& HealthTracker::context(uint64_t uniqueid) {
  auto it = contexts_.find(uniqueid);
  if (it != contexts_.end()) return it->second;
  if (contexts_.size() >= kSaContextsKept && !context_order_.empty()) {
    auto oldest = contexts_.find(context_order_.front());
    if (oldest != contexts_.end()) {
      settle(oldest->second, SaFate::gone);
      contexts_.erase(oldest);
    }
    context_order_.pop_front();
  }
  context_order_.push_back(uniqueid);
  return contexts_[uniqueid];
}

void HealthTracker::on_event(const std::string& name, const vici::Message& message) {
  if (name == "log") {
    on_log(message);
  } else if (name == "ike-updown" || name == "child-updown") {
    on_updown(name, message);
  } else if (name == "ike-rekey") {
    on_ike_rekey(message);
  } else if (name == "child-rekey") {
    on_child_rekey(message);
  }
}

void HealthTracker::on_log(const vici::Message& message) {
  const std::string ike_name(message.string_or("ikesa-name", ""));
  std::optional<uint64_t> id;
  if (auto field = message.get_uint("ikesa-uniqueid")) id = *field;
  const std::string text(message.string_or("msg", ""));
  const CharonLine line = read_charon_line(text);
  if (!line.says_anything()) return;

  SaContext scratch;  // a line about no IKE SA in particular
  SaContext& sa = id ? context(*id) : scratch;
  take(sa.peer_address, line.peer_address);
  take(sa.peer_identity, line.peer_identity);
  take(sa.local_identity, line.local_identity);
  take(sa.requested_identity, line.requested_identity);
  take(sa.offered_proposals, line.offered_proposals);
  take(sa.accepted_proposals, line.accepted_proposals);
  sa.peer_initiated = sa.peer_initiated || line.peer_initiates;
  const bool unnamed = ike_name.empty() || ike_name == kUnnamed;
  if (!unnamed && sa.connection.empty()) sa.connection = resolve(ike_name);
  if (sa.connection.empty() && sa.peer_address) sa.connection = by_peer_address(*sa.peer_address);

  if (!line.failure) {
    settle(sa, SaFate::still_there);
    return;
  }
  if (*line.failure == TunnelFailure::deleted_by_peer && sa.rekeyed) {
    log_connection(LogLevel::debug, ike_name, "the peer deleted the IKE SA replaced by a rekey (routine)");
    return;
  }
  PendingFailure failure{*line.failure, text, clock_.wall_now()};
  if (!sa.connection.empty()) {
    commit(sa.connection, &sa, std::move(failure));
  } else if (!unnamed) {
    // A connection ergwd does not manage.
    log_line(LogLevel::info, ike_name + ": " + std::string(failure_reason(failure.failure)) + " (" + text + ")");
  } else if (id && !sa.peer_address) {
    // The peer's address may still come (its ike-updown carries it).
    if (sa.pending.size() < kPendingPerSa) sa.pending.push_back(std::move(failure));
  } else {
    // Known peer, but no connection has its address.
    keep_unattributed(&sa, std::move(failure));
  }
}

void HealthTracker::on_updown(const std::string& event, const vici::Message& message) {
  auto parsed = vici::parse_updown_event(message);
  if (!parsed) {
    log_line(LogLevel::debug, event + ": " + parsed.error());
    return;
  }
  const auto& ike = parsed->ike_sa;
  SaContext& sa = context(ike.uniqueid);
  if (!sa.peer_address && !ike.remote_host.empty()) sa.peer_address = ike.remote_host;
  if (ike.name == kUnnamed) {
    // An IKE SA that never got a connection (ergw refused the peer's first
    // messages): no state change of any connection, only its failures.
    if (sa.connection.empty() && sa.peer_address) sa.connection = by_peer_address(*sa.peer_address);
    settle(sa, parsed->up ? SaFate::still_there : SaFate::gone);
    return;
  }
  const std::string connection = resolve(ike.name);
  if (connection.empty()) return;
  sa.connection = connection;
  if (parsed->up) sa.established = true;
  auto& h = health_[connection];
  h.last_change = std::string(event == "ike-updown" ? "IKE " : "CHILD ") + (parsed->up ? "up" : "down");
  h.last_change_at = clock_.wall_now();
  // Which SA: after a change or a rekey an old SA goes down while its
  // successor carries the tunnel, and the reconciler's line names that old
  // SA by the same numbers ("deleting the old CHILD SA #6").
  std::string which = "IKE SA #" + std::to_string(ike.uniqueid);
  if (event == "child-updown") {
    for (const auto& child : ike.child_sas) which += ", CHILD SA #" + std::to_string(child.uniqueid);
  }
  log_connection(LogLevel::info, connection, h.last_change + " (" + which + ")");
  if (parsed->up && event == "child-updown") h.last_error.reset();
  settle(sa, parsed->up ? SaFate::still_there : SaFate::gone);
}

void HealthTracker::on_ike_rekey(const vici::Message& message) {
  auto parsed = vici::parse_ike_rekey_event(message);
  if (!parsed) {
    log_line(LogLevel::debug, "ike-rekey: " + parsed.error());
    return;
  }
  context(parsed->old_sa.uniqueid).rekeyed = true;
  const std::string connection = resolve(parsed->name);
  if (connection.empty()) return;
  SaContext& fresh = context(parsed->new_sa.uniqueid);
  fresh.connection = connection;
  fresh.peer_address = parsed->new_sa.remote_host;
  ++health_[connection].ike_rekeys;
  log_connection(LogLevel::info, connection, "IKE SA rekeyed");
}

void HealthTracker::on_child_rekey(const vici::Message& message) {
  auto parsed = vici::parse_child_rekey_event(message);
  if (!parsed) {
    log_line(LogLevel::debug, "child-rekey: " + parsed.error());
    return;
  }
  const std::string connection = resolve(parsed->ike_name);
  if (!connection.empty()) ++health_[connection].child_rekeys;
}

void HealthTracker::settle(SaContext& sa, SaFate fate) {
  if (sa.pending.empty()) return;
  if (sa.connection.empty() && sa.peer_address) sa.connection = by_peer_address(*sa.peer_address);
  if (!sa.connection.empty()) {
    for (auto& failure : sa.pending) commit(sa.connection, &sa, std::move(failure));
    sa.pending.clear();
  } else if (fate == SaFate::gone) {
    for (auto& failure : sa.pending) keep_unattributed(&sa, std::move(failure));
    sa.pending.clear();
  }
}

void HealthTracker::record(const std::string& connection, TunnelFailure failure, std::string detail,
                           std::string observed_text) {
  auto& h = health_[connection];
  FailureRecord r{failure, std::move(detail), std::move(observed_text), clock_.wall_now()};
  ++h.failures[failure];
  log_connection(LogLevel::warning, connection, std::string(failure_reason(failure)) + " (" + r.detail + ")");
  h.last_failure = r;
  h.last_error = std::move(r);
}

void HealthTracker::clear_error(const std::string& connection, TunnelFailure failure) {
  auto it = health_.find(connection);
  if (it != health_.end() && it->second.last_error && it->second.last_error->failure == failure) {
    it->second.last_error.reset();
  }
}

void HealthTracker::commit(const std::string& connection, const SaContext* sa, PendingFailure failure) {
  auto& h = health_[connection];
  if (is_generic(failure.failure) && h.last_error && !is_generic(h.last_error->failure) &&
      failure.at - h.last_error->at < kGenericWindow) {
    return;  // the specific reason just before says more
  }
  FailureRecord r{failure.failure, std::move(failure.detail), observed(connection, sa, failure.failure), failure.at};
  ++h.failures[r.failure];
  log_connection(LogLevel::warning, connection, std::string(failure_reason(r.failure)) +
                                  (r.observed.empty() ? "" : "; " + r.observed) + " (charon: " + r.detail + ")");
  h.last_failure = r;
  h.last_error = std::move(r);
}

void HealthTracker::keep_unattributed(const SaContext* sa, PendingFailure failure) {
  UnattributedFailure u;
  u.peer_address = sa && sa->peer_address ? *sa->peer_address : "";
  u.record = FailureRecord{failure.failure, std::move(failure.detail), observed("", sa, failure.failure), failure.at};
  log_line(LogLevel::warning, "IKE from " + (u.peer_address.empty() ? std::string("an unknown peer") : u.peer_address) +
                                  ", no configured connection: " + std::string(failure_reason(u.record.failure)) +
                                  (u.record.observed.empty() ? "" : "; " + u.record.observed) +
                                  " (charon: " + u.record.detail + ")");
  unattributed_.push_front(std::move(u));
  while (unattributed_.size() > kUnattributedKept) unattributed_.pop_back();
}

std::string HealthTracker::observed(const std::string& connection, const SaContext* sa, TunnelFailure failure) const {
  const TrackedConnection* t = connection.empty() ? nullptr : tracked(connection);
  const std::string peer = sa && sa->peer_address ? "the peer (" + *sa->peer_address + ")" : "the peer";
  std::vector<std::string> parts;
  auto quoted = [](const std::string& s) { return "'" + s + "'"; };
  switch (failure) {
    case TunnelFailure::no_acceptable_proposal:
      if (sa && sa->offered_proposals) parts.push_back(peer + " offered " + *sa->offered_proposals);
      if (sa && sa->accepted_proposals) parts.push_back("ergw accepts " + *sa->accepted_proposals);
      break;
    case TunnelFailure::no_connection_for_identities:
    case TunnelFailure::no_psk_for_identities:
    case TunnelFailure::identity_constraint_failed:
      if (sa && sa->peer_identity) parts.push_back(peer + " identified itself as " + quoted(*sa->peer_identity));
      if (t && !t->remote_id.empty()) parts.push_back("connection " + t->name + " expects " + quoted(t->remote_id));
      // Only when it is not ergw's own: then it is (part of) the mismatch.
      if (sa && sa->requested_identity && !(t && *sa->requested_identity == t->local_id)) {
        parts.push_back("it asked for ergw as " + quoted(*sa->requested_identity) +
                        (t && !t->local_id.empty() ? ", ergw is " + quoted(t->local_id) : ""));
      }
      break;
    case TunnelFailure::local_identity_refused:
      if (sa && sa->requested_identity) parts.push_back(peer + " asked for ergw as " + quoted(*sa->requested_identity));
      if (t && !t->local_id.empty()) parts.push_back("ergw is " + quoted(t->local_id));
      break;
    case TunnelFailure::psk_mismatch:
      if (sa && sa->local_identity && sa->peer_identity) {
        parts.push_back("identities " + quoted(*sa->local_identity) + " - " + quoted(*sa->peer_identity) +
                        " matched, the key did not");
      }
      break;
    case TunnelFailure::peer_refused_authentication:
      if (sa && sa->local_identity) parts.push_back("ergw authenticated as " + quoted(*sa->local_identity));
      if (t && !t->remote_id.empty() && t->remote_id != "%any") {
        parts.push_back("asked for " + quoted(t->remote_id) + " as the peer's identity");
      }
      break;
    case TunnelFailure::no_matching_connection:
      if (sa && sa->peer_address) parts.push_back("IKE from " + *sa->peer_address);
      break;
    default:
      break;
  }
  if (sa && sa->peer_initiated && !sa->established && !parts.empty()) {
    // The refusal of a peer's first messages: nothing else shows it.
    parts.insert(parts.begin(), "Azure dialled, ergw refused it as responder");
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace ergw::gateway
