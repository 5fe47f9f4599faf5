// Static (manually keyed) SAs from an SA file, installed into an IpsecState
// as if an IKE daemon had added them: each SA with its own reqid and one
// policy per (source, destination) selector pair, so the data path treats
// both modes alike.
#pragma once

#include <vector>

#include "common/result.h"
#include "xfrm/fastpath/counters_report.h"
#include "xfrm/fastpath/datapath.h"
#include "xfrm/fastpath/ipsec_state.h"
#include "xfrm/fastpath/sa_file.h"

namespace ergw::xfrm::fastpath {

// Installs every SA and its policies; `labels` receives the SA names.
Status install_static_sas(IpsecState& state, const SaFile& file, SaLabels& labels);

// The sockets the SAs need: one per kind and family, bound to the SA's local
// address (and ESP-in-UDP port).
Result<std::vector<OuterEndpoint>> static_endpoints(const SaFile& file);

// The worst ESP overhead of the file's outbound SAs (0 if none).
size_t static_overhead(const SaFile& file);

}  // namespace ergw::xfrm::fastpath
