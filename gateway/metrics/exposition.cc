#include "gateway/metrics/exposition.h"

#include <sstream>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace ergw::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

class Families {
 public:
  MetricFamily& family(const std::string& name, MetricType type, const std::string& help) {
    for (auto& f : families_) {
      if (f.name == name) return f;
    }
    families_.push_back(MetricFamily{name, help, type, {}});
    return families_.back();
  }

  void gauge(const std::string& name, const std::string& help, Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    family(name, MetricType::Gauge, help).metric.push_back(std::move(m));
  }

  void counter(const std::string& name, const std::string& help, Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = value;
    family(name, MetricType::Counter, help).metric.push_back(std::move(m));
  }

  std::vector<MetricFamily> take() {
    std::vector<MetricFamily> out;
    for (auto& f : families_) {
      if (!f.metric.empty()) out.push_back(std::move(f));
    }
    return out;
  }

 private:
  std::vector<MetricFamily> families_;
};

double value(uint64_t v) { return static_cast<double>(v); }

void daemon_metrics(Families& f, const MetricsInput& in) {
  f.gauge("ergw_build_info", "ergw's version and the commit it was built from (always 1).",
          {{"version", in.build.version}, {"commit", in.build.commit}}, 1);
  const auto& d = in.observation->daemons;
  const char* up_help = "1 when the daemon answers ergwd (charon over vici, BIRD on its control socket).";
  f.gauge("ergw_daemon_up", up_help, {{"daemon", "charon"}}, d.charon_up ? 1 : 0);
  if (d.bird_up) f.gauge("ergw_daemon_up", up_help, {{"daemon", "bird"}}, *d.bird_up ? 1 : 0);
  if (in.config != nullptr) {
    const auto& c = *in.config;
    f.gauge("ergw_config_revision", "The active configuration revision (0 before the first).", {},
            static_cast<double>(c.active_revision));
    if (c.pending_revision) {
      f.gauge("ergw_config_pending_revision", "The revision applied with commit-confirm and not confirmed yet.", {},
              static_cast<double>(*c.pending_revision));
    }
    if (c.confirm_deadline) {
      f.gauge("ergw_config_confirm_deadline_timestamp_seconds",
              "When the pending revision is rolled back unless confirmed (unix time).", {},
              static_cast<double>(*c.confirm_deadline));
    }
    f.counter("ergw_config_applies_total", "Configuration revisions applied (API, file, rollbacks).", {},
              value(c.applies));
    f.counter("ergw_config_apply_failures_total",
              "Applies that charon or BIRD refused (the previous revision was restored).", {},
              value(c.apply_failures));
    f.counter("ergw_api_auth_failures_total", "Requests to the API refused for a missing, wrong or revoked key.",
              {}, value(c.auth_failures));
  }
  if (in.reconcile_duration != nullptr) {
    auto& family = f.family("ergw_reconcile_duration_seconds", MetricType::Histogram,
                            "How long a reconciliation pass (charon and routes brought to the configuration) took.");
    family.metric.push_back(in.reconcile_duration->Collect());
  }
}

void connection_metrics(Families& f, const ConnectionObservation& c, const std::string& data_plane) {
  const Labels name{{"connection", c.name}};
  f.gauge("ergw_connection_up",
          "1 when the IKE SA is established and every configured CHILD SA installed (Azure: connection status).",
          name, c.up ? 1 : 0);
  f.gauge("ergw_connection_info", "The connection's remote address, connectionMode, selectors and data plane (1).",
          {{"connection", c.name},
           {"remote", c.remote},
           {"mode", c.mode},
           {"selectors", c.selectors},
           {"data_plane", data_plane}},
          1);
  if (!c.last_error.empty() && c.last_error_at) {
    f.gauge("ergw_connection_last_failure_timestamp_seconds",
            "When the connection last failed, labelled with the reason (unix time).",
            {{"connection", c.name}, {"reason", reason_label(c.last_error)}}, static_cast<double>(*c.last_error_at));
  }
  f.gauge("ergw_connection_ike_sas", "Established IKE SAs (Azure: Tunnel MMSA Count).", name, c.ike_sas);
  f.gauge("ergw_connection_child_sas", "Installed CHILD SAs (Azure: Tunnel QMSA Count).", name, c.child_sas);
  if (c.established_at) {
    f.gauge("ergw_connection_established_timestamp_seconds", "When the IKE SA was established (unix time).", name,
            static_cast<double>(*c.established_at));
  }
  const char* rekey_help = "When the IKE SA or the soonest CHILD SA is rekeyed next (unix time).";
  if (c.ike_rekey_at) {
    f.gauge("ergw_connection_next_rekey_timestamp_seconds", rekey_help, {{"connection", c.name}, {"sa", "ike"}},
            static_cast<double>(*c.ike_rekey_at));
  }
  if (c.child_rekey_at) {
    f.gauge("ergw_connection_next_rekey_timestamp_seconds", rekey_help, {{"connection", c.name}, {"sa", "child"}},
            static_cast<double>(*c.child_rekey_at));
  }
  const auto& t = c.traffic;
  f.counter("ergw_connection_receive_bytes_total",
            "Bytes received from Azure through the tunnel, rekeyed SAs included (Azure: Tunnel Egress Bytes).", name,
            value(t.rx_bytes));
  f.counter("ergw_connection_transmit_bytes_total",
            "Bytes sent to Azure through the tunnel, rekeyed SAs included (Azure: Tunnel Ingress Bytes).", name,
            value(t.tx_bytes));
  f.counter("ergw_connection_receive_packets_total",
            "Packets received from Azure through the tunnel (Azure: Tunnel Egress Packets).", name,
            value(t.rx_packets));
  f.counter("ergw_connection_transmit_packets_total",
            "Packets sent to Azure through the tunnel (Azure: Tunnel Ingress Packets).", name, value(t.tx_packets));
  for (const auto& [reason, count] : t.drops) {
    f.counter("ergw_connection_drops_total",
              "Packets the data plane dropped, by reason (Azure: Tunnel Ingress/Egress Packet Drop, TS Mismatch).",
              {{"connection", c.name}, {"reason", drop_reason_label(reason)}}, value(count));
  }
  for (const auto& [reason, count] : c.ike_failures) {
    f.counter("ergw_connection_ike_failures_total", "IKE and CHILD SA failures, by reason.",
              {{"connection", c.name}, {"reason", reason_label(reason)}}, value(count));
  }
  f.counter("ergw_connection_rekeys_total", "Completed rekeys of the IKE SA and of CHILD SAs.",
            {{"connection", c.name}, {"sa", "ike"}}, value(c.ike_rekeys));
  f.counter("ergw_connection_rekeys_total", "Completed rekeys of the IKE SA and of CHILD SAs.",
            {{"connection", c.name}, {"sa", "child"}}, value(c.child_rekeys));
  if (!c.pfs_probe.empty()) {
    for (const char* state : kPfsProbeStates) {
      f.gauge("ergw_connection_pfs_probe_state",
              "The PFS probe's state: 1 for the current one (mismatch: PFS configured on one side only).",
              {{"connection", c.name}, {"state", state}}, c.pfs_probe == state ? 1 : 0);
    }
  }
}

void bgp_metrics(Families& f, const BgpPeerObservation& p) {
  const Labels names{{"peer", p.peer}, {"connection", p.connection}};
  f.gauge("ergw_bgp_session_up", "1 when the BGP session is Established (Azure: BGP Peer Status).", names,
          p.state == "Established" ? 1 : 0);
  static const char* const kStates[] = {"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"};
  for (const char* state : kStates) {
    f.gauge("ergw_bgp_session_state", "The BGP session's state: 1 for the current one.",
            {{"peer", p.peer}, {"connection", p.connection}, {"state", state}}, p.state == state ? 1 : 0);
  }
  f.gauge("ergw_bgp_routes_received", "Routes the peer sent (Azure: BGP Routes Learned, from Azure's side).", names,
          value(p.routes_received));
  f.gauge("ergw_bgp_routes_accepted", "Routes accepted by the import filter.", names, value(p.routes_accepted));
  f.gauge("ergw_bgp_routes_advertised", "Routes sent to the peer (Azure: BGP Routes Learned on Azure's side).",
          names, value(p.routes_advertised));
  if (p.uptime_seconds) {
    f.gauge("ergw_bgp_session_uptime_seconds", "How long the session has been Established.", names,
            static_cast<double>(*p.uptime_seconds));
  }
}

}  // namespace

std::shared_ptr<prometheus::Histogram> make_reconcile_histogram() {
  return std::make_shared<prometheus::Histogram>(
      prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
}

std::string render_metrics(const MetricsInput& in) {
  Families f;
  static const Observation kEmpty;
  MetricsInput input = in;
  if (input.observation == nullptr) input.observation = &kEmpty;
  daemon_metrics(f, input);
  for (const auto& c : input.observation->connections) {
    connection_metrics(f, c, input.observation->daemons.data_plane);
  }
  for (const auto& p : input.observation->bgp_peers) bgp_metrics(f, p);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, f.take());
  return out.str();
}

}  // namespace ergw::metrics
