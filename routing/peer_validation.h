// What BIRD 2.0.12 can be given: the checks render_bird_config() needs to
// produce a configuration BIRD parses and that means what the peer says
// (symbols, quoting, IPv4 channels, kernel tables, timers BIRD accepts).
// Azure's rules (reserved ASNs, its APIPA range, 4,000 prefixes, ExpressRoute)
// are not here: the policy validator checks them on the user's configuration
// (gateway/policy/bgp_rules.cc), before any BgpPeer is built.
// Every problem is reported at once, each naming the field and what is allowed.
#pragma once

#include <functional>
#include <string>

#include "common/diagnostics.h"
#include "routing/bgp_peer.h"

namespace ergw::routing {

// The path prefix of a peer's fields in diagnostics; by default
// "peers[<name>]". ergwd names the connection instead.
using PeerPath = std::function<std::string(const BgpPeer&)>;
std::string default_peer_path(const BgpPeer& peer);

void validate_peer(const BgpPeer& peer, Diagnostics& diagnostics, const PeerPath& path = default_peer_path);
// Every peer, plus what must hold across the peers of one BIRD instance.
void validate_config(const BirdConfig& config, Diagnostics& diagnostics, const PeerPath& path = default_peer_path);

}  // namespace ergw::routing
