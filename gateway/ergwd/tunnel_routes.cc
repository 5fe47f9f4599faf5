#include "gateway/ergwd/tunnel_routes.h"

#include "xfrm/netlink/routes.h"
#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::gateway {

bool NetlinkTunnelRoutes::device_exists(const std::string& device) { return xfrm::device_index(device) != 0; }

Status NetlinkTunnelRoutes::create_xfrm_interface(const std::string& device, uint32_t if_id) {
  // MTU 1400: Azure's advice for a tunnel whose MSS cannot be clamped.
  return xfrm::create_xfrm_interface({device, if_id, "", 1400});
}

Status NetlinkTunnelRoutes::replace_route(const IpPrefix& prefix, const std::string& device) {
  return xfrm::replace_route({prefix, device});
}

Status NetlinkTunnelRoutes::delete_route(const IpPrefix& prefix, const std::string& device) {
  return xfrm::delete_route({prefix, device});
}

}  // namespace ergw::gateway
