// ergwd's BGP planning: the compiler's intents mapped to BIRD peers, checked
// for what BIRD needs before anything changes. Azure's BGP rules (reserved
// ASNs, its APIPA range, 4,000 exports, ExpressRoute) belong to the policy
// validator, which ran when the configuration was loaded; they are tested in
// tests/gateway/policy/validator_test.cc, so `ergw policy check` and ergwd
// refuse the same files.
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
  EXPECT_EQ(peer.hold_time_seconds, 180);
  EXPECT_EQ(peer.keepalive_seconds, 60);
  EXPECT_NE(p->text.find("hold time 180;"), std::string::npos);
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
  EXPECT_NE(p.error().find("connection \"azure-hub\" bgp."), std::string::npos) << p.error();
  EXPECT_NE(p.error().find(what), std::string::npos) << p.error();
}

TEST(BgpPlan, RefusesWhatBirdCannotTakeNamingTheConnection) {
  Fixture f;
  f.peer().local_address = addr("2001:db8::1");
  expect_refused(f, "local_address: 2001:db8::1 is IPv6");
  Fixture g;
  g.peer().hold_time_seconds = 0;  // an intent without Azure's timers
  expect_refused(g, "hold_time_seconds: 0");
}

TEST(BgpPlan, AzuresRulesAreNotCheckedTwice) {
  // The policy validator refuses these in the configuration; the plan maps
  // what it is given (the reserved ASN would be a policy error, not a BIRD one).
  Fixture f;
  f.peer().local_asn = 65517;
  EXPECT_TRUE(f.plan());
}

}  // namespace
}  // namespace ergw::gateway
