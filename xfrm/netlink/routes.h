// Routes into a tunnel device (the libipsec TUN or an xfrm interface), set
// with rtnetlink. Replace semantics: setting a route that exists is a no-op,
// so the reconciler can re-apply its whole set at any time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"

namespace ergw::xfrm {

struct DeviceRoute {
  IpPrefix prefix;
  std::string device;
  uint32_t table = 254;  // RT_TABLE_MAIN
  uint32_t metric = 0;
  bool operator==(const DeviceRoute&) const = default;
};

Status replace_route(const DeviceRoute& route);
// One route over several devices at once (ECMP: the kernel spreads flows
// over the nexthops by a hash of the flow, fib_multipath_hash_policy). One
// device is an ordinary route; the devices must all exist.
struct MultipathRoute {
  IpPrefix prefix;
  std::vector<std::string> devices;
  uint32_t table = 254;  // RT_TABLE_MAIN
};
Status replace_multipath_route(const MultipathRoute& route);
// Deleting a route that is already gone succeeds.
Status delete_route(const DeviceRoute& route);
// 0 when the device does not exist (yet).
unsigned device_index(const std::string& device);

}  // namespace ergw::xfrm
