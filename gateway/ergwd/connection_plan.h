// ConnectionPlan: what ergwd keeps running for one IKE connection - the vici
// load-conn body, its PSK, whether ergw dials it, and the routes into it -
// derived from the compiler's output. Plans are keyed on the connection name,
// never on SA unique ids (those change at every IKE rekey).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "gateway/policy/settings_tree.h"
#include "gateway/policy/strongswan_config.h"
#include "vici/message.h"

namespace ergw::gateway {

struct ConnectionPlan {
  std::string name;
  vici::Section conn;                     // load-conn body (without the name)
  policy::SharedSecretConfig secret;
  std::string fingerprint;                // SHA-256 over the connection and its secret
  bool peer_dials = false;                // Azure initiates too (connectionMode Default) or only Azure does
  bool dial = false;                      // ergw initiates (start_action = start)
  std::vector<std::string> children;      // CHILD config names: all must be up for the tunnel to be (tunnel.h)
  uint32_t if_id = 0;                     // 0: policy-based
  std::string remote;                     // Azure's tunnel address
  std::string local_id;                   // the IKE identity ergw presents
  std::string remote_id;                  // the IKE identity ergw expects of Azure
  std::vector<IpPrefix> routes;           // static routes into the tunnel (BGP off)
  bool pfs_probe = true;                  // probe PFS once the tunnel is up (pfs_probe.h)
  std::string pfs_group = "None";         // Azure's spelling, for the probe's findings
  uint8_t route_preference = 0;           // 0, or 1: only while no tunnel of the prefix with 0 is up
  std::optional<int> tcp_mss;             // tcpMss: unset, the default clamp; 0, none (mss_clamp.h)
};

std::vector<ConnectionPlan> plan_connections(const policy::CompiledConfiguration& compiled);

// The settings tree as a vici section; secrets are left out (they travel only
// in load-shared).
vici::Section to_vici(const policy::SettingsSection& settings);

}  // namespace ergw::gateway
