#include "gateway/ergwd/status.h"

#include <ctime>

namespace ergw::gateway {
namespace {

std::string iso_time(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return "";
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

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
          {"state", c.state},
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

uint64_t inbound_packets(const vici::IkeSaInfo& sa) {
  uint64_t total = 0;
  for (const auto& child : sa.child_sas) total += child.packets_in;
  return total;
}

// Of several IKE SAs with one name (a rekey, or both sides dialled at once),
// an established one speaks for the connection; of two established ones, the
// one that received more (the peer sends only into SAs it still has).
const vici::IkeSaInfo* pick(const std::vector<vici::IkeSaInfo>& sas, const std::string& name) {
  const vici::IkeSaInfo* best = nullptr;
  for (const auto& sa : sas) {
    if (sa.name != name) continue;
    if (best == nullptr) {
      best = &sa;
    } else if (sa.state == "ESTABLISHED" && best->state != "ESTABLISHED") {
      best = &sa;
    } else if (sa.state == "ESTABLISHED" && best->state == "ESTABLISHED" &&
               inbound_packets(sa) > inbound_packets(*best)) {
      best = &sa;
    }
  }
  return best;
}

// Where each configured CHILD stands, over every established IKE SA of the
// connection: "installed", "in_progress" (being negotiated or rekeyed) or
// "missing". A policy-based connection has one CHILD per prefix pair, named
// after it, so a missing one names the prefixes without a tunnel.
nlohmann::json configured_children_json(const ConnectionPlan& plan, const std::vector<vici::IkeSaInfo>& sas) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : plan.children) {
    std::string coverage = "missing";
    for (const auto& sa : sas) {
      if (sa.name != plan.name) continue;
      for (const auto& child : sa.child_sas) {
        if (child.name != name) continue;
        if (sa.state == "ESTABLISHED" && child.state == "INSTALLED") {
          coverage = "installed";
        } else if (coverage == "missing" && child.state != "REKEYED" && child.state != "DELETING" &&
                   child.state != "DELETED" && child.state != "DESTROYING") {
          coverage = "in_progress";
        }
      }
    }
    out.push_back({{"name", name}, {"coverage", coverage}});
  }
  return out;
}

}  // namespace

nlohmann::json build_status(const Reconciler& r, const std::vector<vici::IkeSaInfo>& sas,
                            const std::string& sas_error) {
  nlohmann::json out;
  out["charon"] = r.charon_up() ? "connected" : "not connected";
  if (!sas_error.empty()) out["charon_error"] = sas_error;
  out["data_plane"] = {{"kind", data_plane_name(r.data_plane().kind)},
                       {"why", r.data_plane().why},
                       {"limitations", r.data_plane().limitations}};
  out["connections"] = nlohmann::json::array();
  for (const auto& plan : r.desired()) {
    nlohmann::json c;
    c["name"] = plan.name;
    c["remote"] = plan.remote;
    c["initiates"] = plan.dial;
    c["azure_initiates"] = plan.peer_dials;
    c["route_based"] = plan.if_id != 0;
    if (plan.if_id != 0) c["if_id"] = plan.if_id;
    if (plan.if_id != 0 || r.data_plane().kind == DataPlaneKind::libipsec) {
      c["device"] = tunnel_device(r.data_plane().kind, plan.if_id);
    }
    const auto* ike = pick(sas, plan.name);
    std::string state = "DOWN";
    if (ike != nullptr) {
      state = ike->state;
      bool all_children = !plan.children.empty();
      for (const auto& child : plan.children) {
        bool installed = false;
        for (const auto& sa : ike->child_sas) installed = installed || (sa.name == child && sa.state == "INSTALLED");
        all_children = all_children && installed;
      }
      if (ike->state == "ESTABLISHED" && all_children) state = "UP";
      c["ike"] = {{"state", ike->state},
                  {"local", ike->local_host},
                  {"remote", ike->remote_host},
                  {"initiator", ike->initiator},
                  {"encryption", algorithm(ike->encr_alg, ike->encr_keysize)},
                  {"integrity", algorithm(ike->integ_alg, ike->integ_keysize)},
                  {"prf", ike->prf_alg},
                  {"dh_group", ike->dh_group},
                  {"established_seconds", optional_json(ike->established)},
                  {"rekey_in_seconds", optional_json(ike->rekey_time)}};
      c["children"] = nlohmann::json::array();
      for (const auto& child : ike->child_sas) c["children"].push_back(child_json(child));
      // The other established IKE SAs of this connection (both sides dialled
      // at once): traffic may enter one and leave by another.
      c["duplicates"] = nlohmann::json::array();
      for (const auto& sa : sas) {
        if (&sa == ike || sa.name != plan.name || sa.state != "ESTABLISHED") continue;
        nlohmann::json d = {{"initiator", sa.initiator},
                            {"established_seconds", optional_json(sa.established)},
                            {"children", nlohmann::json::array()}};
        for (const auto& child : sa.child_sas) d["children"].push_back(child_json(child));
        c["duplicates"].push_back(std::move(d));
      }
      c["ike_sas"] = c["duplicates"].size() + (ike->state == "ESTABLISHED" ? 1 : 0);
    }
    c["state"] = state;
    c["configured_children"] = configured_children_json(plan, sas);
    nlohmann::json routes = nlohmann::json::array();
    for (const auto& prefix : plan.routes) {
      const auto device = tunnel_device(r.data_plane().kind, plan.if_id);
      routes.push_back({{"prefix", prefix.to_string()},
                        {"device", device},
                        {"installed", r.installed_routes().count({prefix.to_string(), device}) != 0}});
    }
    c["routes"] = routes;
    auto health = r.health().find(plan.name);
    if (health != r.health().end()) {
      const auto& h = health->second;
      if (!h.last_error.empty()) {
        c["last_error"] = {{"reason", h.last_error},
                           {"hint", h.last_error_hint},
                           {"detail", h.last_error_detail},
                           {"at", iso_time(h.last_error_at)}};
      }
      if (!h.last_change.empty()) c["last_change"] = {{"what", h.last_change}, {"at", iso_time(h.last_change_at)}};
    }
    out["connections"].push_back(std::move(c));
  }
  return out;
}

}  // namespace ergw::gateway
