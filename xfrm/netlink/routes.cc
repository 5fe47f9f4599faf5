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

Status replace_multipath_route(const MultipathRoute& route) {
  std::string what = "route " + route.prefix.to_string();
  for (const auto& device : route.devices) what += " nexthop dev " + device;
  if (route.devices.empty()) return Error{what + ": no device"};
  if (route.devices.size() == 1) return replace_route({route.prefix, route.devices.front(), route.table});
  std::vector<unsigned> indexes;
  for (const auto& device : route.devices) {
    const unsigned index = device_index(device);
    if (index == 0) return Error{what + ": no such device " + device + " (yet)"};
    indexes.push_back(index);
  }
  return netlink_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, what, [&](nlmsghdr* h) {
    put_route(h, {route.prefix, "", route.table}, 0, false);
    nlattr* multipath = mnl_attr_nest_start(h, RTA_MULTIPATH);
    for (const unsigned index : indexes) {
      auto* nexthop = static_cast<rtnexthop*>(mnl_nlmsg_get_payload_tail(h));
      std::memset(nexthop, 0, sizeof(rtnexthop));
      nexthop->rtnh_len = sizeof(rtnexthop);
      nexthop->rtnh_hops = 0;  // weight 1: equal cost
      nexthop->rtnh_ifindex = static_cast<int>(index);
      h->nlmsg_len += MNL_ALIGN(sizeof(rtnexthop));
    }
    mnl_attr_nest_end(h, multipath);
  });
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
