#include <gtest/gtest.h>

#include "routing/multipath.h"
#include "routing/route.h"
#include "tests/routing/capture.h"

namespace ergw::routing {
namespace {

using testing::capture_reply;

std::vector<Route> routes_of(const std::string& file) {
  auto routes = parse_show_route(capture_reply(file));
  EXPECT_TRUE(routes.ok()) << (routes.ok() ? "" : routes.error());
  return routes.ok() ? *routes : std::vector<Route>{};
}

TEST(ShowRoute, AllWithBgpAttributes) {
  auto routes = routes_of("show_route_all.txt");
  ASSERT_EQ(routes.size(), 5u);
  const Route& device = routes[0];
  EXPECT_EQ(device.table, "master4");
  EXPECT_EQ(device.prefix.to_string(), "169.254.21.9/32");
  EXPECT_EQ(device.protocol, "tun");
  ASSERT_EQ(device.next_hops.size(), 1u);
  EXPECT_FALSE(device.next_hops[0].gateway);
  EXPECT_EQ(device.next_hops[0].interface, "vx0");
  EXPECT_EQ(device.type, "static univ");
  EXPECT_EQ(device.preference, 200u);

  const Route& bgp = routes[1];
  EXPECT_EQ(bgp.prefix.to_string(), "10.1.0.0/16");
  EXPECT_EQ(bgp.destination, "unicast");
  EXPECT_EQ(bgp.protocol, "p1");
  EXPECT_EQ(bgp.since, "07:04:02.255");
  EXPECT_TRUE(bgp.primary);
  EXPECT_TRUE(bgp.sync_error);  // '!' in this capture
  EXPECT_EQ(bgp.preference, 100u);
  ASSERT_EQ(bgp.next_hops.size(), 1u);
  EXPECT_EQ(bgp.next_hops[0].gateway, IpAddress::parse("169.254.21.5"));
  EXPECT_EQ(bgp.next_hops[0].interface, "vx0");
  EXPECT_EQ(bgp.type, "BGP univ");
  EXPECT_EQ(bgp.as_path, (std::vector<uint32_t>{65515}));
  EXPECT_EQ(bgp.as_path_summary, "AS65515i");
  ASSERT_EQ(bgp.attributes.size(), 5u);
  EXPECT_EQ(bgp.attributes[1].first, "BGP.origin");
  EXPECT_EQ(bgp.attributes[1].second, "IGP");
  EXPECT_EQ(bgp.attributes[3].first, "BGP.next_hop");

  const Route& blackhole = routes[2];
  EXPECT_EQ(blackhole.prefix.to_string(), "192.168.10.0/24");
  EXPECT_EQ(blackhole.destination, "blackhole");
  EXPECT_EQ(blackhole.protocol, "orig");
  EXPECT_TRUE(blackhole.primary);
  EXPECT_FALSE(blackhole.sync_error);
  EXPECT_TRUE(blackhole.next_hops.empty());
}

TEST(ShowRoute, ShortFormOfATable) {
  auto routes = routes_of("show_route_table_master4.txt");
  ASSERT_EQ(routes.size(), 5u);
  EXPECT_EQ(routes[1].as_path_summary, "AS65515i");
  EXPECT_TRUE(routes[1].as_path.empty());  // the full path is shown only with `all`
  ASSERT_EQ(routes[1].next_hops.size(), 1u);
  EXPECT_EQ(routes[4].prefix.to_string(), "169.254.21.1/32");
  for (const auto& r : routes) EXPECT_EQ(r.table, "master4");
}

TEST(ShowRoute, SecondRouteForThePrefixHasNoPrefixColumn) {
  auto routes = routes_of("show_route_all_alternative.txt");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].prefix.to_string(), "10.1.0.0/16");
  EXPECT_EQ(routes[1].prefix.to_string(), "10.1.0.0/16");
  EXPECT_TRUE(routes[0].primary);
  EXPECT_FALSE(routes[1].primary);
  EXPECT_EQ(routes[0].protocol, "p0");
  EXPECT_EQ(routes[1].protocol, "p1");
  ASSERT_EQ(routes[1].next_hops.size(), 1u);
  EXPECT_EQ(routes[1].next_hops[0].gateway, IpAddress::parse("169.254.21.5"));
  EXPECT_EQ(routes[1].as_path, (std::vector<uint32_t>{65515}));
}

// Two sessions (an active-active gateway's two instances) with the same
// route: `merge paths` joins them, and so does ergwd for the fast path; a
// lower local preference or a longer AS path does not join.
TEST(ShowRoute, EqualRoutesOfTwoSessionsAreMergeable) {
  auto routes = routes_of("show_route_all_alternative.txt");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_TRUE(mergeable_with(routes[0], routes[1]));
  Route backup = routes[1];
  for (auto& [key, value] : backup.attributes) {
    if (key == "BGP.local_pref") value = "50";
  }
  EXPECT_FALSE(mergeable_with(routes[0], backup));
  Route longer = routes[1];
  longer.as_path.push_back(65515);
  EXPECT_FALSE(mergeable_with(routes[0], longer));
  Route blackhole = routes[1];
  blackhole.destination = "blackhole";
  EXPECT_FALSE(mergeable_with(routes[0], blackhole));
}

TEST(ShowRoute, KernelSyncErrorMark) {
  // '!' marks the selected route that BIRD could not sync into the kernel.
  auto routes = routes_of("show_route_all_two_paths.txt");
  ASSERT_EQ(routes.size(), 5u);
  const Route& learned = routes[4];
  EXPECT_EQ(learned.prefix.to_string(), "192.168.10.0/24");
  EXPECT_TRUE(learned.primary);
  EXPECT_TRUE(learned.sync_error);
  EXPECT_EQ(learned.as_path, (std::vector<uint32_t>{65010}));
}

TEST(ShowRoute, EmptyAndErrors) {
  auto not_found = parse_show_route(capture_reply("network_not_found.txt"));
  ASSERT_TRUE(not_found.ok());
  EXPECT_TRUE(not_found->empty());
  auto empty = parse_show_route(capture_reply("show_route_empty_protocol.txt"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(parse_show_route(capture_reply("parse_error.txt")).ok());
}

TEST(ShowRoute, MalformedRouteLineIsAnError) {
  auto replies = parse_replies("1007-Table master4:\n not-a-prefix unicast\n0000 \n");
  ASSERT_TRUE(replies.ok());
  EXPECT_FALSE(parse_show_route(replies->front()).ok());
  auto orphan = parse_replies("1008-\tType: BGP univ\n0000 \n");
  ASSERT_TRUE(orphan.ok());
  EXPECT_FALSE(parse_show_route(orphan->front()).ok());
}

}  // namespace
}  // namespace ergw::routing
