#include "routing/bird_queries.h"

#include <algorithm>

namespace ergw::routing {
namespace {

// Table and protocol names go into the command as bare symbols; anything but
// a BIRD symbol would change the command's meaning.
bool is_symbol(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_pattern(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '*' ||
           c == '?';
  });
}

}  // namespace

Result<std::vector<ProtocolStatus>> query_protocols(ControlSocket& socket, const std::string& pattern) {
  std::string command = "show protocols all";
  if (!pattern.empty()) {
    if (!is_pattern(pattern)) return Error{"not a BIRD protocol pattern: " + pattern};
    command += " \"" + pattern + "\"";
  }
  auto reply = socket.command(command);
  if (!reply.ok()) return Error{reply.error()};
  return parse_show_protocols(*reply);
}

Result<std::vector<Route>> query_routes(ControlSocket& socket, const RouteQuery& query) {
  std::string command = "show route";
  if (query.all) command += " all";
  if (!query.table.empty()) {
    if (!is_symbol(query.table)) return Error{"not a BIRD table name: " + query.table};
    command += " table " + query.table;
  }
  if (!query.protocol.empty()) {
    if (!is_symbol(query.protocol)) return Error{"not a BIRD protocol name: " + query.protocol};
    command += " protocol " + query.protocol;
  }
  auto reply = socket.command(command);
  if (!reply.ok()) return Error{reply.error()};
  return parse_show_route(*reply);
}

Result<DaemonStatus> query_status(ControlSocket& socket) {
  auto reply = socket.command("show status");
  if (!reply.ok()) return Error{reply.error()};
  return parse_show_status(*reply);
}

}  // namespace ergw::routing
