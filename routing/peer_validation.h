// Validation of BGP peers against Azure's rules (azure.md §4, §5) and BIRD's
// syntax limits. Every problem is reported at once, each naming the field,
// the value and what is allowed.
#pragma once

#include <vector>

#include "routing/bgp_peer.h"
#include "routing/diagnostic.h"

namespace ergw::routing {

struct ValidationOptions {
  // Refuse (instead of warn about) exports that Azure would route over
  // ExpressRoute, unencrypted (azure.md §5).
  bool strict_expressroute = false;
};

std::vector<Diagnostic> validate_peer(const BgpPeer& peer, const ValidationOptions& options = {});
// Every peer, plus what must hold across peers of one BIRD instance.
std::vector<Diagnostic> validate_config(const BirdConfig& config, const ValidationOptions& options = {});

// Why an ASN may not be used on the on-prem side, or nullptr if it may.
const char* reserved_asn_reason(uint32_t asn);

}  // namespace ergw::routing
