// TunnelRoutes: the routes ergwd puts into tunnel devices, and the xfrm
// interfaces those devices are in kernel mode. An interface, so that the
// reconciler's logic can be tested without touching a real routing table; the
// production one speaks rtnetlink (xfrm/netlink).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"

namespace ergw::gateway {

class TunnelRoutes {
 public:
  virtual ~TunnelRoutes() = default;
  // True when the network device exists.
  virtual bool device_exists(const std::string& device) = 0;
  // Creates the xfrm interface `device` with `if_id` (kernel data plane).
  virtual Status create_xfrm_interface(const std::string& device, uint32_t if_id) = 0;
  // Adds or replaces the route to `prefix` in the main table: `dev device`,
  // or one nexthop per device when there are several (ECMP).
  virtual Status replace_route(const IpPrefix& prefix, const std::vector<std::string>& devices) = 0;
  // Removes ergwd's route to `prefix` (over whichever devices).
  virtual Status delete_route(const IpPrefix& prefix, const std::vector<std::string>& devices) = 0;
};

// Over rtnetlink in ergwd's own network namespace.
class NetlinkTunnelRoutes final : public TunnelRoutes {
 public:
  bool device_exists(const std::string& device) override;
  Status create_xfrm_interface(const std::string& device, uint32_t if_id) override;
  Status replace_route(const IpPrefix& prefix, const std::vector<std::string>& devices) override;
  Status delete_route(const IpPrefix& prefix, const std::vector<std::string>& devices) override;
};

}  // namespace ergw::gateway
