// BIRD 2.0.12 configuration for ergw's BGP peers: one `protocol bgp` per peer
// with explicit import and export filters (RFC 8212), a static protocol for
// the host routes to Azure's BGP addresses through the tunnels, a static
// protocol holding the prefixes ergw announces, a kernel protocol that
// installs learned routes into ergw's own kernel table, and `protocol device`.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "routing/bgp_peer.h"
#include "common/diagnostics.h"
#include "routing/peer_validation.h"

namespace ergw::routing {

// Protocol names the generated config uses besides the per-peer "ergw_<name>".
inline constexpr const char* kTunnelRoutesProtocol = "ergw_tunnel_routes";
inline constexpr const char* kOriginateProtocol = "ergw_originate";
inline constexpr const char* kKernelProtocol = "ergw_kernel";
inline constexpr const char* kDeviceProtocol = "ergw_device";

// Renders a config that validate_config() accepted. Contains the passwords:
// write it only with write_config_file().
std::string render_bird_config(const BirdConfig& config);

// Validates (validate_config), then renders. The error lists every problem,
// one per line. The text holds the passwords: see above.
Result<std::string> generate_bird_config(const BirdConfig& config);

// Who owns the config file. BIRD started with `-u USER -g GROUP` drops its
// privileges before it writes its pid file and re-reads the config on every
// `configure`, so the file must then belong to that user (mode stays 0600).
struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Writes `text` to `path` atomically (a temporary file in the same
// directory, fsync, rename) with mode 0600: the file holds TCP MD5 passwords.
Status write_config_file(const std::string& path, const std::string& text,
                         const std::optional<FileOwner>& owner = std::nullopt);

}  // namespace ergw::routing
