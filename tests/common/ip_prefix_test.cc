#include "common/ip_prefix.h"

#include <gtest/gtest.h>

namespace ergw {
namespace {

TEST(IpPrefix, ParsesV4AndV6) {
  auto p = IpPrefix::parse("10.1.0.0/16");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "10.1.0.0/16");
  auto q = IpPrefix::parse("2001:db8::/32");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->is_v4());
  EXPECT_EQ(q->to_string(), "2001:db8::/32");
}

TEST(IpPrefix, BareAddressIsHostPrefix) {
  auto p = IpPrefix::parse("169.254.21.1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length(), 32);
}

TEST(IpPrefix, RejectsHostBitsUnlessAllowed) {
  EXPECT_FALSE(IpPrefix::parse("10.1.2.3/16"));
  auto p = IpPrefix::parse("10.1.2.3/16", /*allow_host_bits=*/true);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "10.1.0.0/16");
}

TEST(IpPrefix, RejectsMalformed) {
  for (const char* bad : {"", "10.1", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/1x",
                          "::/129", "300.1.1.1/32", "10.0.0.0/0016", "fe80::1%eth0/64"}) {
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
  }
}

TEST(IpPrefix, ContainmentAndOverlap) {
  auto wide = *IpPrefix::parse("10.0.0.0/16");
  auto narrow = *IpPrefix::parse("10.0.1.0/24");
  auto other = *IpPrefix::parse("10.1.0.0/24");
  auto v6 = *IpPrefix::parse("::/0");
  EXPECT_TRUE(wide.contains(narrow));
  EXPECT_FALSE(narrow.contains(wide));
  EXPECT_TRUE(narrow.overlaps(wide));
  EXPECT_FALSE(wide.overlaps(other));
  EXPECT_FALSE(v6.overlaps(wide));
  EXPECT_TRUE(wide.contains(*IpAddress::parse("10.0.255.255")));
  EXPECT_FALSE(wide.contains(*IpAddress::parse("10.1.0.0")));
}

TEST(IpAddress, V4HostOrderRoundTrip) {
  auto a = IpAddress::v4(0xA9FE1501u);
  EXPECT_EQ(a.to_string(), "169.254.21.1");
  EXPECT_EQ(a.v4_host_order(), 0xA9FE1501u);
}

}  // namespace
}  // namespace ergw
