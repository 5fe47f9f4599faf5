#include "gateway/ergwd/connection_plan.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>

namespace ergw::gateway {
namespace {

void canonical(const policy::SettingsSection& s, std::string& out) {
  out += s.name + "{";
  for (const auto& v : s.values) {
    out += v.key + "=";
    if (const auto* text = std::get_if<std::string>(&v.value)) {
      out += *text;
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&v.value)) {
      for (const auto& item : *list) out += item + ",";
    } else {
      out += std::get<policy::Secret>(v.value).reveal();
    }
    out += ";";
  }
  for (const auto& child : s.sections) canonical(child, out);
  out += "}";
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

// ergwd dials its connections itself (the reconciler's dial_missing), so
// charon gets them without start actions: strongSwan 5.9.8 closes the SAs of a
// connection with start_action = start whenever load-conn replaces its
// configuration, which would make every change break-before-make
// (hitless_change.h). `ergw policy compile` keeps them, for a charon without
// ergwd.
void without_start_actions(vici::Section& conn) {
  auto children = conn.get_section("children");
  if (!children || children.value() == nullptr) return;
  vici::Section& all = conn.section("children");
  for (auto& entry : std::vector<vici::Section::Entry>(all.entries())) {
    if (entry.kind() != vici::Section::Kind::section) continue;
    auto child = std::get<vici::Section>(entry.value);
    if (child.contains("start_action")) child.set("start_action", "none");
    all.set_section(entry.name, std::move(child));
  }
}

}  // namespace

vici::Section to_vici(const policy::SettingsSection& settings) {
  vici::Section out;
  for (const auto& v : settings.values) {
    if (const auto* text = std::get_if<std::string>(&v.value)) {
      out.set(v.key, *text);
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&v.value)) {
      out.set_list(v.key, *list);
    }
  }
  for (const auto& child : settings.sections) out.set_section(child.name, to_vici(child));
  return out;
}

std::vector<ConnectionPlan> plan_connections(const policy::CompiledConfiguration& compiled) {
  std::vector<ConnectionPlan> plans;
  for (size_t i = 0; i < compiled.connections.size(); ++i) {
    const auto& ike = compiled.connections[i];
    ConnectionPlan plan;
    plan.name = ike.name;
    const auto settings = policy::to_settings(ike);
    plan.conn = to_vici(settings);
    without_start_actions(plan.conn);
    for (const auto& s : compiled.secrets) {
      if (s.name == "ike-" + ike.name) plan.secret = s;
    }
    std::string text;
    canonical(settings, text);
    canonical(policy::to_vici_shared(plan.secret), text);
    plan.fingerprint = sha256_hex(text);
    for (const auto& child : ike.children) {
      plan.children.push_back(child.name);
      plan.dial = plan.dial || child.start_action == "start";
      if (child.if_id != 0) plan.if_id = child.if_id;
    }
    plan.peer_dials = ike.peer_dials;
    plan.pfs_probe = ike.pfs_probe;
    plan.tcp_mss = ike.tcp_mss;
    plan.pfs_group = ike.pfs_group;
    plan.remote = ike.remote_addrs.empty() ? "" : ike.remote_addrs.front();
    plan.local_id = ike.local_id;
    plan.remote_id = ike.remote_id;
    for (const auto& route : compiled.routes) {
      if (route.connection != ike.name) continue;
      plan.routes.push_back(route.prefix);
      plan.route_preference = std::max(plan.route_preference, route.preference);
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace ergw::gateway
