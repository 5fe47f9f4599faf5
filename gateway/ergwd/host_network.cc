#include "gateway/ergwd/host_network.h"

#include <ifaddrs.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "xfrm/netlink/netlink_request.h"

namespace ergw::gateway {
namespace {

// What the kernel said, by the error's code (never its text).
bool failed_with(const Status& status, ErrorCode code) { return !status && status.failure().code == code; }

std::string describe(const PolicyRule& rule) {
  return "rule " + (rule.to ? "to " + rule.to->to_string() + " " : std::string("")) + "lookup " +
         std::to_string(rule.table) + " priority " + std::to_string(rule.priority);
}

void put_rule(nlmsghdr* header, const PolicyRule& rule) {
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(header, sizeof(fib_rule_hdr)));
  frh->family = AF_INET;
  frh->action = FR_ACT_TO_TBL;
  frh->table = rule.table < 256 ? static_cast<unsigned char>(rule.table) : static_cast<unsigned char>(RT_TABLE_UNSPEC);
  if (rule.to) {
    frh->dst_len = static_cast<unsigned char>(rule.to->length());
    mnl_attr_put(header, FRA_DST, 4, rule.to->network().bytes().data());
  }
  mnl_attr_put_u32(header, FRA_PRIORITY, rule.priority);
  mnl_attr_put_u32(header, FRA_TABLE, rule.table);
}

void put_address(nlmsghdr* header, const IpAddress& address, unsigned index) {
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 32;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put(header, IFA_LOCAL, 4, address.bytes().data());
  mnl_attr_put(header, IFA_ADDRESS, 4, address.bytes().data());
}

}  // namespace

Status add_rule(const PolicyRule& rule) {
  auto s = xfrm::netlink_request(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, describe(rule),
                                 [&](nlmsghdr* h) { put_rule(h, rule); });
  return failed_with(s, ErrorCode::already_exists) ? Status::success() : s;
}

Status delete_rule(const PolicyRule& rule) {
  auto s = xfrm::netlink_request(RTM_DELRULE, 0, "delete " + describe(rule), [&](nlmsghdr* h) { put_rule(h, rule); });
  return failed_with(s, ErrorCode::not_found) ? Status::success() : s;
}

bool address_present(const IpAddress& address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    found = std::memcmp(&sin->sin_addr, address.bytes().data(), 4) == 0;
  }
  freeifaddrs(list);
  return found;
}

Status ensure_address_on_loopback(const IpAddress& address, bool& added) {
  added = false;
  if (!address.is_v4()) return Error{address.to_string() + ": only IPv4 BGP addresses are supported"};
  if (address_present(address)) return Status::success();
  const unsigned lo = if_nametoindex("lo");
  auto s = xfrm::netlink_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, "address " + address.to_string() + "/32 dev lo",
                                 [&](nlmsghdr* h) { put_address(h, address, lo); });
  if (failed_with(s, ErrorCode::already_exists)) return Status::success();
  added = static_cast<bool>(s);
  return s;
}

Status remove_address_from_loopback(const IpAddress& address) {
  const unsigned lo = if_nametoindex("lo");
  auto s = xfrm::netlink_request(RTM_DELADDR, 0, "delete address " + address.to_string() + "/32 dev lo",
                                 [&](nlmsghdr* h) { put_address(h, address, lo); });
  return failed_with(s, ErrorCode::not_found) ? Status::success() : s;
}

namespace {

class NetlinkHostNetwork final : public HostNetwork {
 public:
  Status add_rule(const PolicyRule& rule) override { return gateway::add_rule(rule); }
  Status delete_rule(const PolicyRule& rule) override { return gateway::delete_rule(rule); }
  Status ensure_address_on_loopback(const IpAddress& address, bool& added) override {
    return gateway::ensure_address_on_loopback(address, added);
  }
  Status remove_address_from_loopback(const IpAddress& address) override {
    return gateway::remove_address_from_loopback(address);
  }
};

}  // namespace

std::unique_ptr<HostNetwork> make_host_network() { return std::make_unique<NetlinkHostNetwork>(); }

}  // namespace ergw::gateway
