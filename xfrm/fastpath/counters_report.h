// The text ergw-fastpath prints on SIGUSR1 and at exit: per SA its packets,
// bytes and every ESP drop reason; drops not attributable to an SA; and the
// I/O counters. One "key=value" record per line, easy to grep.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "xfrm/fastpath/datapath.h"
#include "xfrm/fastpath/ipsec_state.h"

namespace ergw::xfrm::fastpath {

// SA labels by (SPI, outer destination); SAs without one are named by SPI.
using SaLabels = std::map<std::pair<uint32_t, IpAddress>, std::string>;

std::string counters_report(const Datapath& datapath, const IpsecState& state, const SaLabels& labels);

}  // namespace ergw::xfrm::fastpath
