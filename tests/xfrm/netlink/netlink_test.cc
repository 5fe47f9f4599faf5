// Routes and xfrm interfaces through rtnetlink, in a private network
// namespace this test process moves into (root only).
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "xfrm/netlink/routes.h"
#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::xfrm {
namespace {

std::string shell(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) return out;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) out += buffer.data();
  return out;
}

class NetlinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    // Our own namespace: nothing here touches the root namespace's routes.
    isolated_ = unshare(CLONE_NEWNET) == 0;
    if (isolated_) {
      shell("ip link set lo up; ip link add ergwt0 type veth peer name ergwt1 && ip link set ergwt0 up && "
            "ip link set ergwt1 up && ip addr add 198.51.100.1/24 dev ergwt0");
    }
  }
  void SetUp() override {
    if (!isolated_) GTEST_SKIP() << "needs root to create a network namespace";
  }
  static inline bool isolated_ = false;
};

TEST_F(NetlinkTest, ReplaceAndDeleteRoute) {
  DeviceRoute route{*IpPrefix::parse("10.99.0.0/16"), "ergwt0"};
  ASSERT_TRUE(replace_route(route)) << replace_route(route).error();
  EXPECT_NE(shell("ip route show 10.99.0.0/16").find("dev ergwt0"), std::string::npos);
  // Replace is idempotent.
  ASSERT_TRUE(replace_route(route));
  // Into another table too.
  DeviceRoute in_table{*IpPrefix::parse("10.98.0.0/16"), "ergwt0", 1000};
  ASSERT_TRUE(replace_route(in_table));
  EXPECT_NE(shell("ip route show table 1000").find("10.98.0.0/16 dev ergwt0"), std::string::npos);
  ASSERT_TRUE(delete_route(route));
  EXPECT_EQ(shell("ip route show 10.99.0.0/16"), "");
  // Deleting again is fine.
  EXPECT_TRUE(delete_route(route));
  EXPECT_TRUE(delete_route(in_table));
}

TEST_F(NetlinkTest, MultipathRouteOverTwoDevices) {
  shell("ip link add ergwt2 type veth peer name ergwt3 && ip link set ergwt2 up && ip link set ergwt3 up");
  MultipathRoute route{*IpPrefix::parse("10.96.0.0/16"), {"ergwt0", "ergwt2"}};
  auto s = replace_multipath_route(route);
  ASSERT_TRUE(s) << s.error();
  const auto shown = shell("ip route show 10.96.0.0/16");
  EXPECT_NE(shown.find("nexthop dev ergwt0"), std::string::npos) << shown;
  EXPECT_NE(shown.find("nexthop dev ergwt2"), std::string::npos) << shown;
  // Down to one device: an ordinary route replaces the multipath one.
  ASSERT_TRUE(replace_multipath_route({route.prefix, {"ergwt2"}}));
  EXPECT_EQ(shell("ip route show 10.96.0.0/16"), "10.96.0.0/16 dev ergwt2 proto static scope link \n");
  // And back to two; deleting by prefix alone removes the multipath route.
  ASSERT_TRUE(replace_multipath_route(route));
  EXPECT_TRUE(delete_route({route.prefix, ""}));
  EXPECT_EQ(shell("ip route show 10.96.0.0/16"), "");
  auto missing = replace_multipath_route({route.prefix, {"ergwt0", "nosuchdev"}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("nosuchdev"), std::string::npos);
  shell("ip link del ergwt2");
}

TEST_F(NetlinkTest, RouteToMissingDeviceNamesIt) {
  auto s = replace_route({*IpPrefix::parse("10.97.0.0/16"), "nosuchdev"});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("nosuchdev"), std::string::npos);
}

TEST_F(NetlinkTest, Ipv6Route) {
  shell("ip -6 addr add 2001:db8:1::1/64 dev ergwt0 nodad");
  DeviceRoute route{*IpPrefix::parse("2001:db8:99::/48"), "ergwt0"};
  auto s = replace_route(route);
  ASSERT_TRUE(s) << s.error();
  EXPECT_NE(shell("ip -6 route show 2001:db8:99::/48").find("dev ergwt0"), std::string::npos);
  EXPECT_TRUE(delete_route(route));
}

TEST_F(NetlinkTest, XfrmInterfaceWhereTheKernelHasThem) {
  XfrmInterface xi{xfrm_interface_name(42), 42, "ergwt0", 1400};
  EXPECT_EQ(xi.name, "ergw42");
  auto s = create_xfrm_interface(xi);
  if (!s) {
    // This build machine's kernel has no xfrm interfaces; the qemu kernel test covers them.
    GTEST_SKIP() << "this kernel has no xfrm interfaces: " << s.error();
  }
  const auto link = shell("ip -d link show ergw42");
  EXPECT_NE(link.find("xfrm if_id 0x2a"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1400"), std::string::npos) << link;
  EXPECT_TRUE(delete_interface("ergw42"));
  EXPECT_EQ(device_index("ergw42"), 0u);
}

TEST_F(NetlinkTest, XfrmInterfaceRefusesIdZero) {
  EXPECT_FALSE(create_xfrm_interface({"ergw0", 0, "", 1400}));
}

}  // namespace
}  // namespace ergw::xfrm
