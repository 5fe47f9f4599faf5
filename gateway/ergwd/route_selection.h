// Which tunnels carry each statically routed prefix right now.
//
// A prefix can be routed into several tunnels: the two instances of an
// active-active Azure gateway (or several connections to one network). Each
// route has a preference (0, or 1 for the instance that is not
// preferredInstance). The prefix goes into the tunnels that are up with the
// best preference among those up: both tunnels of an active-active gateway
// (ECMP) by default, the preferred one while it is up, the other one when it
// is not. When none of them is up the prefix stays in all of its tunnels of
// the best preference: packets then meet a tunnel without SAs and are
// dropped, instead of following a less specific route out unencrypted (over
// ExpressRoute, say).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "gateway/ergwd/connection_plan.h"

namespace ergw::gateway {

// prefix -> indexes into `plans` of the tunnels carrying it, in plan order.
using RouteSelection = std::map<IpPrefix, std::vector<size_t>>;

RouteSelection select_routes(const std::vector<ConnectionPlan>& plans, const std::set<std::string>& tunnels_up);

}  // namespace ergw::gateway
