// ergwd's BGP planning: the compiler's intents mapped to BIRD peers and
// validated with the routing rules before anything changes. The policy
// validator already refuses reserved/equal ASNs and APIPA outside Azure's
// range in the connection file; these tests check that ergwd itself refuses
// them too (a second line of defence for intents from any source), and what
// only ergwd checks: the 4,000-prefix export limit and the ExpressRoute
// overlap warning.
#include <gtest/gtest.h>

#include "gateway/ergwd/bgp_controller.h"
#include "tests/gateway/bgp/azure_hub.h"

namespace ergw::gateway {
namespace {

IpAddress addr(const char* text) { return *IpAddress::parse(text); }
IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

struct Fixture {
  policy::CompiledConfiguration compiled;
  std::vector<ConnectionPlan> plans;
  BgpOptions options;

  Fixture() {
    compiled.bgp_peers.push_back(testing::azure_hub_intent());
    plans.push_back(testing::azure_hub_connection());
  }
  policy::BgpPeerIntent& peer() { return compiled.bgp_peers.front(); }
  Result<BgpPlan> plan(DataPlaneKind kind = DataPlaneKind::libipsec) { return plan_bgp(compiled, plans, kind, options); }
};

TEST(BgpPlan, NoIntentMeansNoBird) {
  Fixture f;
  f.compiled.bgp_peers.clear();
  auto p = f.plan();
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE(p->peers.empty());
  EXPECT_TRUE(p->text.empty());
}

TEST(BgpPlan, MapsTheIntentToAPeerThroughTheTunnel) {
  Fixture f;
  auto p = f.plan();
  ASSERT_TRUE(p) << p.error();
  ASSERT_EQ(p->peers.size(), 1u);
  const auto& peer = p->peers.front().peer;
  EXPECT_EQ(peer.name, "azure_hub");  // a BIRD symbol
  EXPECT_EQ(p->peers.front().connection, "azure-hub");
  EXPECT_EQ(peer.tunnel_interface, "ipsec0");
  EXPECT_EQ(peer.kernel_table, 1000u);
  EXPECT_FALSE(peer.must_initiate);  // GatewaySubnet address: Azure connects too
  EXPECT_EQ(p->underlay_addresses, std::vector<IpAddress>{addr("172.16.0.2")});
  EXPECT_NE(p->text.find("protocol bgp ergw_azure_hub"), std::string::npos);
  EXPECT_NE(p->text.find("kernel table 1000"), std::string::npos);

  auto kernel = f.plan(DataPlaneKind::kernel);
  ASSERT_TRUE(kernel) << kernel.error();
  EXPECT_EQ(kernel->peers.front().peer.tunnel_interface, "ergw1");
}

TEST(BgpPlan, ApipaPeersAreDialledByErgw) {
  Fixture f;
  f.peer().peer_address = addr("169.254.21.1");
  f.peer().local_address = addr("169.254.21.2");
  f.peer().apipa = true;
  auto p = f.plan();
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE(p->peers.front().peer.must_initiate);
  EXPECT_NE(p->text.find("connect retry time 30"), std::string::npos);
}

TEST(BgpPlan, HostRouteToAzuresBgpAddressGoesIntoTheTunnelWithTheStaticRoutes) {
  Fixture f;
  auto p = f.plan();
  ASSERT_TRUE(p) << p.error();
  add_bgp_host_routes(p.value(), f.plans);
  EXPECT_EQ(f.plans.front().routes, std::vector<IpPrefix>{prefix("10.0.1.30/32")});
}

void expect_refused(Fixture& f, const std::string& what) {
  auto p = f.plan();
  ASSERT_FALSE(p) << "accepted; expected an error about " << what;
  EXPECT_NE(p.error().find("connection \"azure-hub\""), std::string::npos) << p.error();
  EXPECT_NE(p.error().find(what), std::string::npos) << p.error();
}

TEST(BgpPlan, RefusesAReservedLocalAsn) {
  Fixture f;
  f.peer().local_asn = 65517;
  expect_refused(f, "65517 is reserved by Azure");
}

TEST(BgpPlan, RefusesEqualAsns) {
  Fixture f;
  f.peer().local_asn = 65020;
  f.peer().peer_asn = 65020;
  expect_refused(f, "local_asn");
}

TEST(BgpPlan, RefusesAnApipaAddressOutsideAzuresRange) {
  Fixture f;
  f.peer().peer_address = addr("169.254.23.1");
  f.peer().local_address = addr("169.254.21.2");
  f.peer().apipa = true;
  expect_refused(f, "169.254.22.255");
}

TEST(BgpPlan, RefusesMoreThan4000Exports) {
  Fixture f;
  f.peer().export_prefixes.clear();
  for (int i = 0; i < 4001; ++i) {
    const auto text = "172." + std::to_string(20 + i / 256) + "." + std::to_string(i % 256) + ".0/24";
    f.peer().export_prefixes.push_back(prefix(text.c_str()));
  }
  expect_refused(f, "4000");
  f.peer().export_prefixes.pop_back();
  EXPECT_TRUE(f.plan());
}

TEST(BgpPlan, ExpressRouteOverlapWarnsAndMoreSpecificIsQuiet) {
  Fixture f;
  f.peer().express_route_prefixes = {prefix("192.168.10.0/24")};
  auto same = f.plan();
  ASSERT_TRUE(same) << same.error();
  ASSERT_EQ(same->warnings.size(), 1u);
  EXPECT_NE(same->warnings.front().message.find("ExpressRoute"), std::string::npos) << same->warnings.front().message;

  f.peer().express_route_prefixes = {prefix("192.168.0.0/16")};  // the VPN's /24 is more specific
  auto specific = f.plan();
  ASSERT_TRUE(specific) << specific.error();
  EXPECT_TRUE(specific->warnings.empty());

  f.options.strict_expressroute = true;
  f.peer().express_route_prefixes = {prefix("192.168.10.0/24")};
  expect_refused(f, "ExpressRoute");
}

}  // namespace
}  // namespace ergw::gateway
