#include "gateway/ergwd/state_publisher.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "gateway/ergwd/status.h"

namespace ergw::gateway {
namespace {

int64_t to_unix(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string connection_mode(const ConnectionPlan& plan) {
  if (plan.dial && plan.peer_dials) return "Default";
  if (!plan.dial) return "InitiatorOnly";  // Azure only initiates
  return "ResponderOnly";                  // Azure only responds: ergw dials
}

bool installed(const vici::IkeSaInfo& ike, const std::string& child) {
  return std::any_of(ike.child_sas.begin(), ike.child_sas.end(),
                     [&](const vici::ChildSaInfo& c) { return c.name == child && c.state == "INSTALLED"; });
}

// Up: an established IKE SA carrying every configured CHILD SA, installed.
bool carries_all(const vici::IkeSaInfo& ike, const ConnectionPlan& plan) {
  if (ike.state != "ESTABLISHED" || plan.children.empty()) return false;
  return std::all_of(plan.children.begin(), plan.children.end(),
                     [&](const std::string& child) { return installed(ike, child); });
}

// One CHILD SA's counters under charon's ids (kept inside TrafficTotals).
metrics::SaSample sa_sample(const vici::IkeSaInfo& ike, const vici::ChildSaInfo& child) {
  metrics::SaSample s;
  s.connection = ike.name;
  s.ike_id = ike.uniqueid;
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

}  // namespace

metrics::Observation build_observation(const Reconciler& reconciler, const std::vector<vici::IkeSaInfo>& sas,
                                       const std::optional<nlohmann::json>& bgp, metrics::TrafficTotals& totals,
                                       FailureHistory& failures, int64_t now_unix) {
  metrics::Observation o;
  o.taken_at = now_unix;
  o.daemons.charon_up = reconciler.charon_up();
  o.daemons.data_plane = data_plane_name(reconciler.data_plane().kind);

  // Every SA charon has now, for the monotonic totals (ids stay in TrafficTotals).
  std::vector<metrics::SaSample> samples;
  for (const auto& ike : sas) {
    for (const auto& child : ike.child_sas) {
      samples.push_back(sa_sample(ike, child));
    }
  }
  if (reconciler.charon_up()) totals.sample(samples);

  for (const auto& plan : reconciler.desired()) {
    auto& c = o.connections.emplace_back();
    c.name = plan.name;
    c.remote = plan.remote;
    c.mode = connection_mode(plan);
    c.selectors = plan.if_id != 0 || reconciler.data_plane().kind == DataPlaneKind::libipsec ? "route_based"
                                                                                            : "policy_based";
    c.dials = plan.dial;
    const vici::IkeSaInfo* shown = nullptr;
    for (const auto& ike : sas) {
      if (ike.name != plan.name) continue;
      if (ike.state == "ESTABLISHED") {
        ++c.ike_sas;
        for (const auto& child : ike.child_sas) c.child_sas += child.state == "INSTALLED" ? 1 : 0;
        if (carries_all(ike, plan)) c.up = true;
        if (shown == nullptr || carries_all(ike, plan)) shown = &ike;
      } else {
        c.connecting = true;
      }
    }
    if (c.up) c.connecting = false;
    if (shown != nullptr) {
      if (shown->established) c.established_at = now_unix - static_cast<int64_t>(*shown->established);
      if (shown->rekey_time) c.ike_rekey_at = now_unix + static_cast<int64_t>(*shown->rekey_time);
      for (const auto& child : shown->child_sas) {
        if (!child.rekey_time) continue;
        const int64_t at = now_unix + static_cast<int64_t>(*child.rekey_time);
        if (!c.child_rekey_at || at < *c.child_rekey_at) c.child_rekey_at = at;
      }
    }
    c.traffic = totals.totals(plan.name);
    auto health = reconciler.health().find(plan.name);
    if (health != reconciler.health().end() && !health->second.last_error.empty()) {
      FailureHistory::Last seen{health->second.last_error, health->second.last_error_hint,
                                to_unix(health->second.last_error_at)};
      auto& last = failures.last[plan.name];
      if (last.at != seen.at || last.reason != seen.reason) {
        ++failures.counts[plan.name][seen.reason];
        last = seen;
      }
    }
    if (auto last = failures.last.find(plan.name); last != failures.last.end()) {
      c.last_error = last->second.reason;
      c.last_error_hint = last->second.hint;
      c.last_error_at = last->second.at;
    }
    if (auto counts = failures.counts.find(plan.name); counts != failures.counts.end()) c.ike_failures = counts->second;
  }
  // Connections no longer configured: their series end.
  const auto configured = [&](const std::string& name) {
    const auto& plans = reconciler.desired();
    return std::any_of(plans.begin(), plans.end(), [&](const ConnectionPlan& p) { return p.name == name; });
  };
  for (const auto& name : totals.connections()) {
    if (!configured(name)) totals.forget(name);
  }
  std::erase_if(failures.last, [&](const auto& entry) { return !configured(entry.first); });
  std::erase_if(failures.counts, [&](const auto& entry) { return !configured(entry.first); });
  if (bgp) observe_bgp(*bgp, o);
  return o;
}

nlohmann::json status_report(const Reconciler& reconciler, CollectedStatus collected) {
  nlohmann::json status = build_status(reconciler, collected.sas, collected.charon_error);
  if (collected.bgp) status["bgp"] = std::move(*collected.bgp);
  status["not_answering"] = std::move(collected.not_answering);
  return status;
}

StatePublisher::StatePublisher(boost::asio::any_io_executor executor, ergw::Clock& clock,
                               StatusCollector& collector, const Reconciler& reconciler, BgpSource bgp,
                               api::SnapshotBoard& board, std::chrono::milliseconds interval)
    : executor_(std::move(executor)),
      clock_(clock),
      collector_(collector),
      reconciler_(reconciler),
      bgp_(std::move(bgp)),
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
  if (name == "child-updown" || name == "ike-updown") {
    auto event = vici::parse_updown_event(message);
    if (event && !event->up) {
      for (const auto& child : event->ike_sa.child_sas) {
        totals_.final_counters(sa_sample(event->ike_sa, child));
      }
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
    const auto now = to_unix(std::chrono::system_clock::now());
    board_.publish_observation(build_observation(reconciler_, collected.sas, collected.bgp, totals_, failures_, now));
    board_.publish_status(status_report(reconciler_, std::move(collected)));
    gathering_ = false;
    if (std::exchange(again_, false)) {
      gather();
      return;
    }
    arm();
  });
}

}  // namespace ergw::gateway
