#include "xfrm/netlink/routes.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "xfrm/netlink/netlink_request.h"

namespace ergw::xfrm {
namespace {

void put_route(nlmsghdr* header, const DeviceRoute& route, unsigned index, bool for_delete) {
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<unsigned char>(route.prefix.is_v4() ? AF_INET : AF_INET6);
  rtm->rtm_dst_len = static_cast<unsigned char>(route.prefix.length());
  rtm->rtm_table = route.table < 256 ? static_cast<unsigned char>(route.table) : static_cast<unsigned char>(RT_TABLE_UNSPEC);
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = for_delete ? RT_SCOPE_NOWHERE : RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(header, RTA_DST, route.prefix.is_v4() ? 4 : 16, route.prefix.network().bytes().data());
  if (route.table >= 256) mnl_attr_put_u32(header, RTA_TABLE, route.table);
  if (route.metric != 0) mnl_attr_put_u32(header, RTA_PRIORITY, route.metric);
  if (index != 0) mnl_attr_put_u32(header, RTA_OIF, index);
}

}  // namespace

unsigned device_index(const std::string& device) { return if_nametoindex(device.c_str()); }

Status replace_route(const DeviceRoute& route) {
  const unsigned index = device_index(route.device);
  const std::string what = "route " + route.prefix.to_string() + " dev " + route.device;
  if (index == 0) return Error{what + ": no such device (yet)"};
  return netlink_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, what,
                         [&](nlmsghdr* h) { put_route(h, route, index, false); });
}

Status delete_route(const DeviceRoute& route) {
  const unsigned index = device_index(route.device);
  const std::string what = "delete route " + route.prefix.to_string() + " dev " + route.device;
  auto status = netlink_request(RTM_DELROUTE, 0, what, [&](nlmsghdr* h) { put_route(h, route, index, true); });
  // Already gone (ESRCH), or its device went away with it (ENODEV): done.
  if (!status && (status.error().find(std::strerror(ESRCH)) != std::string::npos ||
                  status.error().find(std::strerror(ENODEV)) != std::string::npos)) {
    return Status::success();
  }
  return status;
}

}  // namespace ergw::xfrm
