// The kernel's IPv4 routes as iproute2 reports them (`ip -j -4 route show
// table all`, `ip -j route get`): where traffic for Azure's prefixes really
// goes. A VNet prefix that leaves by the underlay (ExpressRoute's own route,
// learned by the customer edge or set statically) instead of the tunnel
// device is traffic that goes unencrypted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"

namespace ergw::diagnose {

struct KernelRoute {
  IpPrefix prefix{IpAddress{}, 0};
  std::string device;
  std::string gateway;
  std::string table = "main";
  std::string protocol;

  // "10.0.2.128/25 via 172.16.0.2 dev wan0 table main proto static"
  std::string describe() const;
};

// The unicast routes of `ip -j -4 route show table all` (the local and
// broadcast table entries left out). Malformed input: an error, never a throw.
Result<std::vector<KernelRoute>> parse_route_dump(std::string_view json_text);

// What `ip -j route get ADDRESS ...` chose: the first entry's device and gateway.
struct RouteLookup {
  std::string address;
  std::string device;
  std::string gateway;
  std::string table;
  std::string error;  // the lookup failed (no route: "Network is unreachable")
  std::string describe() const;
};
Result<RouteLookup> parse_route_get(std::string_view json_text);

// Runs iproute2 (blocking; a diagnosis thread only).
Result<std::vector<KernelRoute>> read_kernel_routes();
// As a packet to `address` arriving from `source` on `in_device` would be
// routed (policy rules included); plain `ip route get ADDRESS` when
// `in_device` is empty or the kernel refuses that form.
RouteLookup look_up_route(const IpAddress& address, const std::string& source = {},
                          const std::string& in_device = {});

}  // namespace ergw::diagnose
