// Typed routes from `show route [all] [table X]` (BIRD 2.0.12 nest/rt-show.c).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "routing/reply.h"

namespace ergw::routing {

struct NextHop {
  std::optional<IpAddress> gateway;  // absent for device routes ("dev vx0")
  std::string interface;
  std::optional<uint32_t> weight;    // multipath only
};

struct Route {
  std::string table;         // "master4"
  IpPrefix prefix{IpAddress{}, 0};
  std::string destination;   // "unicast", "blackhole", "unreachable", "prohibited"
  std::string protocol;      // the BIRD protocol that brought it, e.g. "ergw_azure0"
  std::string since;         // as printed
  std::optional<IpAddress> from;  // BGP: the neighbor it came from, when BIRD shows it
  bool primary = false;      // '*' (or '!'): the route BIRD selected for this prefix
  bool sync_error = false;   // '!': selected, but BIRD could not sync it into the kernel
  uint32_t preference = 0;
  std::vector<NextHop> next_hops;
  std::string type;          // from "Type:" with `all`, e.g. "BGP univ"
  // Full AS path from "BGP.as_path:" (only with `all`); AS-set members are
  // listed in order, without braces.
  std::vector<uint32_t> as_path;
  std::string as_path_summary;  // the "[AS65515i]" column of the short form
  // Every "key: value" attribute line shown with `all` (BGP.origin, ...).
  std::vector<std::pair<std::string, std::string>> attributes;
};

// 8001 ("Network not found") is an empty list; other errors carry BIRD's message.
Result<std::vector<Route>> parse_show_route(const Reply& reply);

}  // namespace ergw::routing
