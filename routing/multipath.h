// Which of BIRD's routes for one prefix the kernel protocol's `merge paths`
// joins into one multipath route: the selected one and every route BGP
// ranks equal to it (BIRD 2.0.12 bgp_rte_mergable: equal local preference,
// AS path length, origin and MED). ergwd uses it to give the fast path the
// same ECMP BIRD gives the kernel (the two sessions of an active-active Azure
// gateway).
#pragma once

#include "routing/route.h"

namespace ergw::routing {

// Both routes carry the attributes of `show route all`.
bool mergeable_with(const Route& selected, const Route& other);

}  // namespace ergw::routing
