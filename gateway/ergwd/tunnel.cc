#include "gateway/ergwd/tunnel.h"

namespace ergw::gateway {
namespace {

uint64_t inbound_packets(const vici::IkeSaInfo& sa) {
  uint64_t total = 0;
  for (const auto& child : sa.child_sas) total += child.packets_in;
  return total;
}

// Established before anything else; of two established ones, the one that
// received more.
bool speaks_better(const vici::IkeSaInfo& candidate, const vici::IkeSaInfo& current) {
  const bool candidate_up = vici::is_established(candidate.state);
  const bool current_up = vici::is_established(current.state);
  if (candidate_up != current_up) return candidate_up;
  return candidate_up && inbound_packets(candidate) > inbound_packets(current);
}

ChildCoverage coverage_of(const std::string& child, const std::vector<vici::IkeSaInfo>& ike_sas) {
  ChildCoverage best = ChildCoverage::missing;
  for (const auto& ike : ike_sas) {
    if (!vici::is_established(ike.state)) continue;
    for (const auto& sa : ike.child_sas) {
      if (sa.name != child) continue;
      if (vici::is_installed(sa.state)) return ChildCoverage::installed;
      if (vici::is_in_progress(sa.state)) best = ChildCoverage::in_progress;
    }
  }
  return best;
}

}  // namespace

std::string_view to_string(TunnelState state) {
  switch (state) {
    case TunnelState::down: return "DOWN";
    case TunnelState::connecting: return "CONNECTING";
    case TunnelState::partial: return "PARTIAL";
    case TunnelState::up: return "UP";
  }
  return "DOWN";
}

std::string_view to_string(ChildCoverage coverage) {
  switch (coverage) {
    case ChildCoverage::installed: return "installed";
    case ChildCoverage::in_progress: return "in progress";
    case ChildCoverage::missing: return "missing";
  }
  return "missing";
}

size_t Tunnel::established_ike_sas() const {
  size_t n = 0;
  for (const auto& sa : ike_sas) n += vici::is_established(sa.state) ? 1 : 0;
  return n;
}

size_t Tunnel::installed_child_sas() const {
  size_t n = 0;
  for (const auto& ike : ike_sas) {
    if (!vici::is_established(ike.state)) continue;
    for (const auto& child : ike.child_sas) n += vici::is_installed(child.state) ? 1 : 0;
  }
  return n;
}

std::vector<std::string> Tunnel::children_with(ChildCoverage coverage) const {
  std::vector<std::string> names;
  for (const auto& child : children) {
    if (child.coverage == coverage) names.push_back(child.name);
  }
  return names;
}

Tunnel observe_tunnel(std::string_view connection, const std::vector<std::string>& children,
                      const std::vector<vici::IkeSaInfo>& sas) {
  Tunnel tunnel;
  tunnel.connection = std::string(connection);
  for (const auto& sa : sas) {
    if (sa.name != connection) continue;
    tunnel.ike_sas.push_back(sa);
    if (!tunnel.shown || speaks_better(sa, tunnel.ike_sas[*tunnel.shown])) tunnel.shown = tunnel.ike_sas.size() - 1;
  }
  bool all_installed = !children.empty();
  for (const auto& name : children) {
    ConfiguredChild child{name, coverage_of(name, tunnel.ike_sas)};
    all_installed = all_installed && child.coverage == ChildCoverage::installed;
    tunnel.children.push_back(std::move(child));
  }
  bool connecting = false;
  for (const auto& sa : tunnel.ike_sas) connecting = connecting || vici::is_connecting(sa.state);
  if (tunnel.established_ike_sas() > 0) {
    tunnel.state = all_installed ? TunnelState::up : TunnelState::partial;
  } else {
    // IKE SAs that are only being deleted or replaced count as none.
    tunnel.state = connecting ? TunnelState::connecting : TunnelState::down;
  }
  return tunnel;
}

}  // namespace ergw::gateway
