#include "gateway/ergwd/state_publisher.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "gateway/ergwd/failure_reason.h"
#include "vici/sa_info.h"

namespace ergw::gateway {
namespace {

int64_t to_unix(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string connection_mode(const ConnectionSnapshot& c) {
  if (c.initiates && c.azure_initiates) return "Default";
  if (!c.initiates) return "InitiatorOnly";  // Azure only initiates
  return "ResponderOnly";                    // Azure only responds: ergw dials
}

// One CHILD SA's counters under charon's id (kept inside TrafficTotals).
metrics::SaSample sa_sample(const std::string& connection, const vici::ChildSaInfo& child) {
  metrics::SaSample s;
  s.connection = connection;
  s.child_id = child.uniqueid;
  s.counters.rx_bytes = child.bytes_in;
  s.counters.rx_packets = child.packets_in;
  s.counters.tx_bytes = child.bytes_out;
  s.counters.tx_packets = child.packets_out;
  return s;
}

void observe_bgp(const nlohmann::json& bgp, metrics::Observation& o) {
  if (!bgp.value("enabled", false)) return;
  if (bgp.contains("bird")) o.daemons.bird_up = bgp["bird"].value("running", false);
  for (const auto& s : bgp.value("sessions", nlohmann::json::array())) {
    metrics::BgpPeerObservation p;
    p.peer = s.value("protocol", "");
    p.connection = s.value("connection", "");
    p.state = s.value("state", "unknown");
    const uint64_t accepted = s.value("prefixes_in", uint64_t{0});
    p.routes_accepted = accepted;
    p.routes_received = accepted + s.value("prefixes_filtered", uint64_t{0});
    p.routes_advertised = s.value("prefixes_out", uint64_t{0});
    if (s.contains("uptime_seconds") && p.state == "Established") p.uptime_seconds = s.value("uptime_seconds", int64_t{0});
    o.bgp_peers.push_back(std::move(p));
  }
}

// The data plane's drops of one connection of the report, folded into the
// bounded reasons: every reason when the data plane reports drops per
// connection (the fast path: "fastpath": {"drops": {reason: count}}), none
// when it does not.
std::map<metrics::DropReason, uint64_t> reported_drops(const nlohmann::json& connection) {
  std::map<metrics::DropReason, uint64_t> out;
  const auto data_plane = connection.find("fastpath");
  if (data_plane == connection.end() || !data_plane->is_object()) return out;
  const auto drops = data_plane->find("drops");
  if (drops == data_plane->end() || !drops->is_object()) return out;
  for (const auto reason : metrics::kDropReasons) out[reason] = 0;
  for (const auto& [reason, count] : drops->items()) {
    if (count.is_number_integer() && count.get<int64_t>() >= 0) {
      out[metrics::drop_reason_of(reason)] += count.get<uint64_t>();
    }
  }
  return out;
}

const nlohmann::json* report_connection(const nlohmann::json& report, const std::string& name) {
  const auto connections = report.find("connections");
  if (connections == report.end() || !connections->is_array()) return nullptr;
  for (const auto& c : *connections) {
    if (c.value("name", "") == name) return &c;
  }
  return nullptr;
}

void observe_connection(const ConnectionSnapshot& s, DataPlaneKind data_plane,
                        int64_t now_unix, const metrics::TrafficTotals& totals, metrics::ConnectionObservation& c) {
  c.name = s.name;
  c.remote = s.remote;
  c.mode = connection_mode(s);
  c.selectors = s.if_id != 0 || data_plane == DataPlaneKind::libipsec ? "route_based" : "policy_based";
  c.dials = s.initiates;
  // The one model of a tunnel (tunnel.h) decides what up means.
  c.up = s.tunnel.up();
  c.connecting = s.tunnel.state == TunnelState::connecting || s.tunnel.state == TunnelState::partial;
  c.ike_sas = static_cast<uint32_t>(s.tunnel.established_ike_sas());
  c.child_sas = static_cast<uint32_t>(s.tunnel.installed_child_sas());
  if (const auto* shown = s.tunnel.established_ike_sas() > 0 ? s.tunnel.shown_sa() : nullptr) {
    if (shown->established) c.established_at = now_unix - static_cast<int64_t>(*shown->established);
    if (shown->rekey_time) c.ike_rekey_at = now_unix + static_cast<int64_t>(*shown->rekey_time);
    for (const auto& child : shown->child_sas) {
      if (!child.rekey_time) continue;
      const int64_t at = now_unix + static_cast<int64_t>(*child.rekey_time);
      if (!c.child_rekey_at || at < *c.child_rekey_at) c.child_rekey_at = at;
    }
  }
  c.traffic = totals.totals(s.name);
  // Counted by the HealthTracker as charon's events and replies arrive.
  const auto& h = s.health;
  // Every code from the start (at 0), so that rate() sees the first failure.
#define ERGW_ZERO_FAILURE(code, reason, cause, hint) c.ike_failures[std::string(failure_name(TunnelFailure::code))] = 0;
  ERGW_TUNNEL_FAILURES(ERGW_ZERO_FAILURE)
#undef ERGW_ZERO_FAILURE
  for (const auto& [failure, count] : h.failures) c.ike_failures[std::string(failure_name(failure))] = count;
  c.ike_rekeys = h.ike_rekeys;
  c.child_rekeys = h.child_rekeys;
  if (h.last_failure) {
    c.last_error = std::string(failure_name(h.last_failure->failure));
    c.last_error_reason = std::string(failure_reason(h.last_failure->failure));
    c.last_error_hint = std::string(failure_hint(h.last_failure->failure));
    c.last_error_at = to_unix(h.last_failure->at);
  }
  if (s.pfs) c.pfs_probe = std::string(to_string(s.pfs->state));
}

}  // namespace

nlohmann::json status_report(const StatusSnapshot& snapshot, CollectedStatus collected) {
  nlohmann::json status = status_json(snapshot);
  if (collected.bgp) status["bgp"] = std::move(*collected.bgp);
  status["not_answering"] = std::move(collected.not_answering);
  return status;
}

metrics::Observation build_observation(const StatusSnapshot& snapshot, const nlohmann::json& report,
                                       metrics::TrafficTotals& totals) {
  metrics::Observation o;
  const int64_t now_unix = to_unix(snapshot.taken_at);
  o.taken_at = now_unix;
  o.daemons.charon_up = snapshot.charon_connected;
  o.daemons.data_plane = data_plane_name(snapshot.data_plane.kind);

  // Every CHILD SA of the configured connections, for the monotonic totals
  // (ids stay in TrafficTotals); only a fresh answer, never charon's last one
  // (an SA retired since would come back as a new one).
  if (snapshot.charon_connected && snapshot.charon_error.empty()) {
    std::vector<metrics::SaSample> samples;
    for (const auto& connection : snapshot.connections) {
      for (const auto& ike : connection.tunnel.ike_sas) {
        for (const auto& child : ike.child_sas) samples.push_back(sa_sample(connection.name, child));
      }
    }
    totals.sample(samples);
  }
  for (const auto& connection : snapshot.connections) {
    // Kept monotonic by the totals: a connection without SAs now (charon
    // restarting) is not in the data plane's report, and keeps its drops.
    if (const auto* reported = report_connection(report, connection.name)) {
      if (auto drops = reported_drops(*reported); !drops.empty()) totals.data_plane_drops(connection.name, drops);
    }
    observe_connection(connection, snapshot.data_plane.kind, now_unix, totals, o.connections.emplace_back());
  }
  // Connections no longer configured: their series end.
  for (const auto& name : totals.connections()) {
    const bool configured = std::any_of(snapshot.connections.begin(), snapshot.connections.end(),
                                        [&](const ConnectionSnapshot& c) { return c.name == name; });
    if (!configured) totals.forget(name);
  }
  if (const auto bgp = report.find("bgp"); bgp != report.end()) observe_bgp(*bgp, o);
  return o;
}

StatePublisher::StatePublisher(boost::asio::any_io_executor executor, ergw::Clock& clock,
                               StatusCollector& collector, const Reconciler& reconciler, BgpSource bgp,
                               DataPlaneSource data_plane, api::SnapshotBoard& board, std::chrono::milliseconds interval)
    : executor_(std::move(executor)),
      clock_(clock),
      collector_(collector),
      reconciler_(reconciler),
      bgp_(std::move(bgp)),
      data_plane_(std::move(data_plane)),
      board_(board),
      interval_(interval),
      timer_(clock.make_timer()) {}

StatePublisher::~StatePublisher() { *alive_ = false; }

void StatePublisher::start() { gather(); }

void StatePublisher::refresh() {
  if (gathering_) {
    again_ = true;
    return;
  }
  timer_->cancel();
  gather();
}

void StatePublisher::charon_event(const std::string& name, const vici::Message& message) {
  if (name == "log") return;
  if (name == "child-rekey") {
    // The old CHILD SA's last counters: it is deleted right after.
    if (auto event = vici::parse_child_rekey_event(message)) {
      totals_.final_counters(sa_sample(event->ike_name, event->old_sa));
    }
  } else if (name == "child-updown" || name == "ike-updown") {
    auto event = vici::parse_updown_event(message);
    if (event && !event->up) {
      for (const auto& child : event->ike_sa.child_sas) totals_.final_counters(sa_sample(event->ike_sa.name, child));
    }
  }
  refresh();
}

void StatePublisher::arm() {
  timer_->start(interval_, [this] { gather(); });
}

void StatePublisher::gather() {
  gathering_ = true;
  collector_.collect(bgp_(), [this, alive = alive_](CollectedStatus collected) {
    if (!*alive) return;
    const auto snapshot =
        take_snapshot(reconciler_, collected.sas, collected.charon_error, clock_.wall_now(), data_plane_());
    auto report = status_report(snapshot, std::move(collected));
    board_.publish_observation(build_observation(snapshot, report, totals_));
    board_.publish_status(std::move(report));
    gathering_ = false;
    if (std::exchange(again_, false)) {
      gather();
      return;
    }
    arm();
  });
}

}  // namespace ergw::gateway
