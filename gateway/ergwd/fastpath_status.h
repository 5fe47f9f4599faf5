// The data plane's part of `ergw status` that comes from outside charon:
//  - add_fastpath_status: the fast path daemon at the top ("fastpath": state,
//    pid, restarts, last exit, SAs/policies/routes held, drops that belong to
//    no connection) and, per connection, the fast path's counters of its CHILD
//    SAs ("fastpath": packets and bytes each way, which never fall across
//    rekeys, and every drop by its named reason). A fast-path connection (one
//    reqid) belongs to the ergwd connection whose CHILD SAs carry its SPIs.
//  - charon_backend_problem: whether the running charon loaded the IPsec
//    backend the chosen data plane needs (vici `stats` lists its plugins).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/ergwd/data_plane.h"

namespace ergw::gateway {

// `report` is FastpathDaemon::report().
void add_fastpath_status(nlohmann::json& status, const nlohmann::json& report);

// "" when charon's plugins fit the data plane, else what is wrong and what to do.
std::string charon_backend_problem(DataPlaneKind kind, const std::vector<std::string>& plugins);

}  // namespace ergw::gateway
