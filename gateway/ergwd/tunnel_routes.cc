#include "gateway/ergwd/tunnel_routes.h"

#include <fstream>

#include "xfrm/netlink/routes.h"
#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::gateway {

bool NetlinkTunnelRoutes::device_exists(const std::string& device) { return xfrm::device_index(device) != 0; }

Status NetlinkTunnelRoutes::create_xfrm_interface(const std::string& device, uint32_t if_id) {
  // MTU 1400: Azure's advice for a tunnel whose MSS cannot be clamped.
  if (auto s = xfrm::create_xfrm_interface({device, if_id, "", 1400}); !s) return s;
  // Loose reverse-path filtering on the tunnel: Azure does not keep a flow's
  // two directions on one instance ("Azure does not guarantee symmetric
  // routing for a given flow in Active-Active VPN mode", VPN Gateway FAQ), so
  // a reply may come in through the instance whose tunnel the route does not
  // use now (a preferred instance, or the other one's tunnel just failed over).
  // Strict filtering (1) would drop it; the kernel applies the larger of
  // conf.all and conf.<device>, so 2 here is loose whatever `all` says.
  const std::string path = "/proc/sys/net/ipv4/conf/" + device + "/rp_filter";
  std::ofstream sysctl(path);
  sysctl << "2\n";
  sysctl.close();
  if (!sysctl) return Error{device + ": cannot set loose rp_filter (" + path + ")"};
  return Status::success();
}

Status NetlinkTunnelRoutes::replace_route(const IpPrefix& prefix, const std::vector<std::string>& devices) {
  return xfrm::replace_multipath_route({prefix, devices});
}

Status NetlinkTunnelRoutes::delete_route(const IpPrefix& prefix, const std::vector<std::string>& devices) {
  // One device: only the route through it. Several: the multipath route has
  // no single device to name; it is ours by its prefix and protocol.
  return xfrm::delete_route({prefix, devices.size() == 1 ? devices.front() : ""});
}

}  // namespace ergw::gateway
