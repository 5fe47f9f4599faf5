// The text ergw-fastpath prints on SIGUSR1 and at exit: per SA its packets,
// bytes and every ESP drop reason; drops not attributable to an SA; and the
// I/O counters. One "key=value" record per line, easy to grep.
#pragma once

#include <string>

#include "xfrm/fastpath/datapath.h"

namespace ergw::xfrm::fastpath {

std::string counters_report(Datapath& datapath);

}  // namespace ergw::xfrm::fastpath
