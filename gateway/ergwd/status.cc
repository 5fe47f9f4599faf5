#include "gateway/ergwd/status.h"

#include <algorithm>

#include "common/time_format.h"
#include "gateway/ergwd/route_selection.h"

namespace ergw::gateway {
namespace {

std::string algorithm(const std::string& name, const std::optional<uint32_t>& keysize) {
  if (name.empty()) return "";
  return keysize ? name + "_" + std::to_string(*keysize) : name;
}

template <typename T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json child_json(const vici::ChildSaInfo& c) {
  return {{"name", c.name},
          {"state", vici::to_string(c.state)},
          {"mode", c.mode},
          {"protocol", c.protocol},
          {"udp_encapsulation", c.encap},
          {"spi_in", c.spi_in},
          {"spi_out", c.spi_out},
          {"encryption", algorithm(c.encr_alg, c.encr_keysize)},
          {"integrity", algorithm(c.integ_alg, c.integ_keysize)},
          {"pfs_group", c.dh_group},
          {"bytes_in", c.bytes_in},
          {"bytes_out", c.bytes_out},
          {"packets_in", c.packets_in},
          {"packets_out", c.packets_out},
          {"installed_seconds", optional_json(c.install_time)},
          {"rekey_in_seconds", optional_json(c.rekey_time)},
          {"expires_in_seconds", optional_json(c.life_time)},
          {"local_ts", c.local_ts},
          {"remote_ts", c.remote_ts}};
}

nlohmann::json children_json(const vici::IkeSaInfo& sa) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& child : sa.child_sas) out.push_back(child_json(child));
  return out;
}

nlohmann::json ike_json(const vici::IkeSaInfo& ike) {
  return {{"state", vici::to_string(ike.state)},
          {"local", ike.local_host},
          {"remote", ike.remote_host},
          {"local_id", ike.local_id},
          {"remote_id", ike.remote_id},
          {"initiator", ike.initiator},
          {"encryption", algorithm(ike.encr_alg, ike.encr_keysize)},
          {"integrity", algorithm(ike.integ_alg, ike.integ_keysize)},
          {"prf", ike.prf_alg},
          {"dh_group", ike.dh_group},
          {"established_seconds", optional_json(ike.established)},
          {"rekey_in_seconds", optional_json(ike.rekey_time)}};
}

nlohmann::json failure_json(const FailureRecord& r) {
  return {{"code", failure_name(r.failure)},
          {"reason", failure_reason(r.failure)},
          {"likely_cause", failure_cause(r.failure)},
          {"observed", r.observed},
          {"hint", failure_hint(r.failure)},
          {"detail", r.detail},
          {"at", format_time(r.at)}};
}

// The tunnel: its state, the IKE SA shown, its CHILD SAs, the other
// established IKE SAs (both sides dialled at once) and the configured CHILDs.
void tunnel_json(const Tunnel& tunnel, nlohmann::json& c) {
  c["state"] = to_string(tunnel.state);
  nlohmann::json configured = nlohmann::json::array();
  for (const auto& child : tunnel.children) {
    configured.push_back({{"name", child.name}, {"coverage", to_string(child.coverage)}});
  }
  c["configured_children"] = std::move(configured);
  const auto* shown = tunnel.shown_sa();
  if (shown == nullptr) return;
  c["ike"] = ike_json(*shown);
  c["children"] = children_json(*shown);
  // Traffic may enter by one established IKE SA and leave by another.
  c["duplicates"] = nlohmann::json::array();
  for (const auto& sa : tunnel.ike_sas) {
    if (&sa == shown || !vici::is_established(sa.state)) continue;
    c["duplicates"].push_back({{"initiator", sa.initiator},
                               {"established_seconds", optional_json(sa.established)},
                               {"children", children_json(sa)}});
  }
  c["ike_sas"] = tunnel.established_ike_sas();
}

void health_json(const ConnectionHealth& h, nlohmann::json& c) {
  if (h.last_error) c["last_error"] = failure_json(*h.last_error);
  if (!h.last_change.empty()) c["last_change"] = {{"what", h.last_change}, {"at", format_time(h.last_change_at)}};
  nlohmann::json failures = nlohmann::json::object();
  for (const auto& [failure, count] : h.failures) failures[std::string(failure_name(failure))] = count;
  c["failures"] = std::move(failures);
  c["rekeys"] = {{"ike", h.ike_rekeys}, {"child", h.child_rekeys}};
}

// "pfs": the probe's state; verified_at and mismatch_at once they happened,
// the finding (with its fix) while there is a mismatch.
nlohmann::json pfs_json(const PfsProbeStatus& p) {
  nlohmann::json out = {{"probe", to_string(p.state)}, {"pfs_group", p.pfs_group}, {"probes", p.probes}};
  if (p.verified_at) out["verified_at"] = format_time(*p.verified_at);
  if (p.mismatch_at) out["mismatch_at"] = format_time(*p.mismatch_at);
  if (p.took) out["probe_ms"] = p.took->count();
  if (!p.finding.empty()) out["finding"] = p.finding;
  if (!p.detail.empty()) out["detail"] = p.detail;
  return out;
}

nlohmann::json connection_json(const ConnectionSnapshot& s) {
  nlohmann::json c;
  c["name"] = s.name;
  c["remote"] = s.remote;
  c["initiates"] = s.initiates;
  c["azure_initiates"] = s.azure_initiates;
  c["route_based"] = s.if_id != 0;
  if (s.if_id != 0) c["if_id"] = s.if_id;
  if (!s.device.empty()) c["device"] = s.device;
  tunnel_json(s.tunnel, c);
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& r : s.routes) {
    routes.push_back({{"prefix", r.prefix}, {"device", r.device}, {"installed", r.installed}, {"carrying", r.carrying}});
  }
  c["routes"] = std::move(routes);
  health_json(s.health, c);
  if (s.pfs) c["pfs"] = pfs_json(*s.pfs);
  if (s.fastpath) c["fastpath"] = fastpath_counters_json(*s.fastpath);
  return c;
}

}  // namespace

StatusSnapshot take_snapshot(const Reconciler& r, const std::vector<vici::IkeSaInfo>& sas,
                             const std::string& sas_error, std::chrono::system_clock::time_point now,
                             const DataPlaneReport& data_plane) {
  StatusSnapshot out;
  out.taken_at = now;
  out.charon_connected = r.charon_up();
  out.charon_error = sas_error;
  out.data_plane = r.data_plane();
  out.data_plane_warnings = data_plane.warnings;
  out.charon_backend_problem = data_plane.charon_backend_problem;
  out.tunnel_mtu = data_plane.tunnel_mtu;
  out.mss_clamp = data_plane.mss_clamp;
  nlohmann::json fastpath_document;
  if (data_plane.fastpath) {
    out.fastpath = fastpath_daemon_json(*data_plane.fastpath);
    fastpath_document = data_plane.fastpath->value("status", nlohmann::json::object());
  }
  const FastpathCounterIndex fastpath_index(fastpath_document);
  const auto kind = r.data_plane().kind;
  const auto carriers = select_routes(r.desired(), r.tunnels_up());
  for (size_t index = 0; index < r.desired().size(); ++index) {
    const auto& plan = r.desired()[index];
    ConnectionSnapshot c;
    c.name = plan.name;
    c.remote = plan.remote;
    c.initiates = plan.dial;
    c.azure_initiates = plan.peer_dials;
    c.if_id = plan.if_id;
    if (plan.if_id != 0 || kind == DataPlaneKind::libipsec) c.device = tunnel_device(kind, plan.if_id);
    c.tunnel = observe_tunnel(plan.name, plan.children, sas);
    for (const auto& prefix : plan.routes) {
      const auto device = tunnel_device(kind, plan.if_id);
      const auto carrier = carriers.find(prefix);
      const bool carrying = carrier != carriers.end() && std::find(carrier->second.begin(), carrier->second.end(),
                                                                   index) != carrier->second.end();
      c.routes.push_back(
          {prefix.to_string(), device, r.installed_routes().count({prefix.to_string(), device}) != 0, carrying});
    }
    if (const auto* health = r.health().find(plan.name)) c.health = *health;
    if (const auto* pfs = r.pfs_probe().find(plan.name)) c.pfs = *pfs;
    if (data_plane.fastpath) c.fastpath = fastpath_index.counters(c.tunnel);
    out.connections.push_back(std::move(c));
  }
  out.reconciler = r.pass_times();
  out.unattributed_failures.assign(r.health().unattributed().begin(), r.health().unattributed().end());
  return out;
}

nlohmann::json status_json(const StatusSnapshot& s) {
  nlohmann::json out;
  out["taken_at"] = format_time(s.taken_at);
  out["charon"] = s.charon_connected ? "connected" : "not connected";
  if (!s.charon_error.empty()) out["charon_error"] = s.charon_error;
  out["data_plane"] = {{"kind", data_plane_name(s.data_plane.kind)},
                       {"why", s.data_plane.why},
                       {"limitations", s.data_plane.limitations},
                       {"warnings", s.data_plane_warnings}};
  if (!s.charon_backend_problem.empty()) out["data_plane"]["charon_backend"] = s.charon_backend_problem;
  out["data_plane"]["tunnel_mtu"] = s.tunnel_mtu;
  if (!s.mss_clamp.empty()) out["data_plane"]["mss_clamp"] = s.mss_clamp;
  if (s.fastpath) out["fastpath"] = *s.fastpath;
  out["connections"] = nlohmann::json::array();
  for (const auto& c : s.connections) out["connections"].push_back(connection_json(c));
  nlohmann::json unattributed = nlohmann::json::array();
  for (const auto& u : s.unattributed_failures) {
    auto j = failure_json(u.record);
    j["peer"] = u.peer_address;
    unattributed.push_back(std::move(j));
  }
  out["unattributed_failures"] = std::move(unattributed);
  const auto ms = [](std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1000.0; };
  out["reconciler"] = {{"passes", s.reconciler.passes},
                       {"last_pass_ms", ms(s.reconciler.last)},
                       {"longest_pass_ms", ms(s.reconciler.longest)}};
  return out;
}

}  // namespace ergw::gateway
