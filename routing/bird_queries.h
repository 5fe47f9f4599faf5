// Typed queries over a control socket: the commands ergw's status code runs,
// with their replies parsed.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "routing/control_socket.h"
#include "routing/protocol_status.h"
#include "routing/route.h"

namespace ergw::routing {

// `show protocols all` or `show protocols all "pattern"` (BIRD shell pattern,
// e.g. "ergw_*"). No match is an empty list.
Result<std::vector<ProtocolStatus>> query_protocols(ControlSocket& socket, const std::string& pattern = "");

struct RouteQuery {
  std::string table;     // BIRD table name, e.g. "master4"; empty: the default table
  std::string protocol;  // only routes from this protocol; empty: all
  bool all = true;       // `all`: attributes and the full AS path
};
Result<std::vector<Route>> query_routes(ControlSocket& socket, const RouteQuery& query);

Result<DaemonStatus> query_status(ControlSocket& socket);

}  // namespace ergw::routing
