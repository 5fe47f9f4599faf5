// Parses `show route [all]` replies (BIRD 2.0.12; real captures in tests/routing/data/).
//
//   1007-Table master4:
//    10.1.0.0/16          unicast [p1 07:04:02.255] * (100/?) [AS65515i]
//    \tvia 169.254.21.5 on vx0
//   1008-\tType: BGP univ
//   1012-\tBGP.origin: IGP
//    \tBGP.as_path: 65515
//
// With `all`, every route line carries its own 1007 code. A second route for
// the same prefix has 20 spaces where the prefix would be.
#include "routing/route.h"
#include "routing/text_util.h"

namespace ergw::routing {
namespace {

using text::starts_with;
using text::trim;
using text::words;

bool take_route_line(std::string_view line, const std::string& table, const std::optional<IpPrefix>& previous,
                     Route& route) {
  std::string_view rest = line;
  route.table = table;
  if (!line.empty() && line[0] != ' ') {
    auto w = words(line);
    if (w.empty()) return false;
    auto prefix = IpPrefix::parse(w[0]);
    if (!prefix) return false;
    route.prefix = *prefix;
    rest = line.substr(static_cast<size_t>(w[0].data() - line.data()) + w[0].size());
  } else {
    if (!previous) return false;
    route.prefix = *previous;
  }
  rest = trim(rest);
  auto open = rest.find('[');
  auto close = rest.find(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  route.destination = std::string(trim(rest.substr(0, open)));

  auto inside = words(rest.substr(open + 1, close - open - 1));
  if (inside.empty()) return false;
  route.protocol = std::string(inside[0]);
  std::string since;
  for (size_t i = 1; i < inside.size(); ++i) {
    if (inside[i] == "from" && i + 1 < inside.size()) {
      route.from = IpAddress::parse(inside[i + 1]);
      ++i;
      continue;
    }
    if (!since.empty()) since += ' ';
    since += inside[i];
  }
  route.since = since;

  for (auto w : words(rest.substr(close + 1))) {
    if (w == "*") {
      route.primary = true;
    } else if (w == "!") {
      route.primary = true;
      route.sync_error = true;
    } else if (w.size() >= 3 && w.front() == '(' && w.back() == ')') {
      auto inner = w.substr(1, w.size() - 2);
      auto pref = text::parse_u64(inner.substr(0, inner.find('/')));
      if (pref && *pref <= 0xffffffffu) route.preference = static_cast<uint32_t>(*pref);
    } else if (w.size() >= 2 && w.front() == '[' && w.back() == ']') {
      route.as_path_summary = std::string(w.substr(1, w.size() - 2));
    }
  }
  return true;
}

void take_next_hop(std::string_view line, Route& route) {
  auto w = words(line);
  if (w.empty()) return;
  NextHop hop;
  size_t i = 0;
  if (w[0] == "via" && w.size() >= 2) {
    hop.gateway = IpAddress::parse(w[1]);
    i = 2;
  } else if (w[0] == "dev" && w.size() >= 2) {
    hop.interface = std::string(w[1]);
    i = 2;
  } else {
    return;
  }
  for (; i + 1 < w.size(); ++i) {
    if (w[i] == "on") {
      hop.interface = std::string(w[i + 1]);
    } else if (w[i] == "weight") {
      auto weight = text::parse_u64(w[i + 1]);
      if (weight && *weight <= 0xffffffffu) hop.weight = static_cast<uint32_t>(*weight);
    }
  }
  route.next_hops.push_back(std::move(hop));
}

void take_attribute(std::string_view line, Route& route) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string key(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  if (key == "Type") route.type = value;
  if (key == "BGP.as_path") {
    for (auto w : words(value)) {
      while (!w.empty() && (w.front() == '{' || w.front() == '(')) w.remove_prefix(1);
      while (!w.empty() && (w.back() == '}' || w.back() == ')' || w.back() == ',')) w.remove_suffix(1);
      auto asn = text::parse_u64(w);
      if (asn && *asn <= 0xffffffffu) route.as_path.push_back(static_cast<uint32_t>(*asn));
    }
  }
  route.attributes.emplace_back(std::move(key), std::move(value));
}

}  // namespace

Result<std::vector<Route>> parse_show_route(const Reply& reply) {
  if (reply.final_code() == reply_code::kNetworkNotFound) return std::vector<Route>{};
  if (reply.is_error()) return Error{"BIRD: " + reply.text()};
  std::vector<Route> routes;
  std::string table;
  std::optional<IpPrefix> previous;
  for (const ReplyLine& line : reply.lines) {
    const std::string_view t = line.text;
    if (line.code == reply_code::kRouteList) {
      if (starts_with(t, "Table ") && !t.empty() && t.back() == ':') {
        table = std::string(t.substr(6, t.size() - 7));
        previous.reset();
      } else if (!t.empty() && t[0] == '\t') {
        if (routes.empty()) return Error{"BIRD route detail before any route line"};
        take_next_hop(t, routes.back());
      } else if (!trim(t).empty()) {
        Route route;
        if (!take_route_line(t, table, previous, route)) {
          return Error{"malformed BIRD route line: \"" + std::string(t.substr(0, 60)) + "\""};
        }
        previous = route.prefix;
        routes.push_back(std::move(route));
      }
    } else if (line.code == reply_code::kRouteDetails || line.code == reply_code::kRouteAttributes) {
      if (routes.empty()) return Error{"BIRD route attributes before any route line"};
      take_attribute(t, routes.back());
    }
  }
  return routes;
}

}  // namespace ergw::routing
