#include "xfrm/netlink/xfrm_interface.h"

#include <net/if.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>

#include "xfrm/netlink/netlink_request.h"
#include "xfrm/netlink/routes.h"

namespace ergw::xfrm {

std::string xfrm_interface_name(uint32_t if_id) { return "ergw" + std::to_string(if_id); }

Status create_xfrm_interface(const XfrmInterface& xi) {
  if (xi.if_id == 0) return Error{"xfrm interface " + xi.name + ": if_id must not be 0"};
  if (xi.name.empty() || xi.name.size() >= IFNAMSIZ) return Error{"xfrm interface name \"" + xi.name + "\" is invalid"};
  unsigned underlay = 0;
  if (!xi.underlay.empty()) {
    underlay = device_index(xi.underlay);
    if (underlay == 0) return Error{"xfrm interface " + xi.name + ": no underlay device " + xi.underlay};
  }
  if (device_index(xi.name) != 0) {
    if (auto s = delete_interface(xi.name); !s) return s;
  }
  auto status = netlink_request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, "create xfrm interface " + xi.name,
                                [&](nlmsghdr* h) {
                                  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(h, sizeof(ifinfomsg)));
                                  ifm->ifi_family = AF_UNSPEC;
                                  ifm->ifi_flags = IFF_UP;
                                  ifm->ifi_change = IFF_UP;
                                  mnl_attr_put_strz(h, IFLA_IFNAME, xi.name.c_str());
                                  mnl_attr_put_u32(h, IFLA_MTU, xi.mtu);
                                  auto* linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
                                  mnl_attr_put_strz(h, IFLA_INFO_KIND, "xfrm");
                                  auto* data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
                                  mnl_attr_put_u32(h, IFLA_XFRM_IF_ID, xi.if_id);
                                  if (underlay != 0) mnl_attr_put_u32(h, IFLA_XFRM_LINK, underlay);
                                  mnl_attr_nest_end(h, data);
                                  mnl_attr_nest_end(h, linkinfo);
                                });
  return status;
}

Status delete_interface(const std::string& name) {
  const unsigned index = device_index(name);
  if (index == 0) return Status::success();
  return netlink_request(RTM_DELLINK, 0, "delete interface " + name, [&](nlmsghdr* h) {
    auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(h, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = static_cast<int>(index);
  });
}

}  // namespace ergw::xfrm
