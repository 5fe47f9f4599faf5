// The one definition of "the tunnel is up" (gateway/ergwd/tunnel.h).
#include "gateway/ergwd/tunnel.h"

#include <gtest/gtest.h>

#include "tests/gateway/ergwd/sa_messages.h"

namespace ergw::gateway {
namespace {

using testing::ChildSpec;
using testing::IkeSpec;
using testing::ike_sa;

TEST(TunnelModel, NoIkeSaIsDown) {
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa({.name = "other", .uniqueid = 1})});
  EXPECT_EQ(t.state, TunnelState::down);
  EXPECT_TRUE(t.ike_sas.empty());
  EXPECT_EQ(t.shown_sa(), nullptr);
  EXPECT_EQ(t.children_with(ChildCoverage::missing), std::vector<std::string>{"hub"});
}

TEST(TunnelModel, IkeSaBeingSetUpIsConnecting) {
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa({.name = "hub", .uniqueid = 1, .state = "CONNECTING"})});
  EXPECT_EQ(t.state, TunnelState::connecting);
  EXPECT_EQ(t.established_ike_sas(), 0u);
  ASSERT_NE(t.shown_sa(), nullptr);
}

TEST(TunnelModel, OnlyDyingIkeSasIsDown) {
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa({.name = "hub", .uniqueid = 1, .state = "DELETING"})});
  EXPECT_EQ(t.state, TunnelState::down);
  EXPECT_EQ(t.ike_sas.size(), 1u);
}

TEST(TunnelModel, EstablishedWithItsChildInstalledIsUp) {
  const auto t = observe_tunnel(
      "hub", {"hub"},
      {ike_sa({.name = "hub", .uniqueid = 1, .children = {{.name = "hub", .state = "INSTALLED", .uniqueid = 1}}})});
  EXPECT_EQ(t.state, TunnelState::up);
  EXPECT_TRUE(t.up());
  EXPECT_EQ(t.installed_child_sas(), 1u);
}

TEST(TunnelModel, EstablishedWithoutChildIsPartial) {
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa({.name = "hub", .uniqueid = 1})});
  EXPECT_EQ(t.state, TunnelState::partial);
  EXPECT_EQ(t.children_with(ChildCoverage::missing), std::vector<std::string>{"hub"});
}

TEST(TunnelModel, ChildBeingInstalledIsInProgressNotUp) {
  const auto t = observe_tunnel(
      "hub", {"hub"},
      {ike_sa({.name = "hub", .uniqueid = 1, .children = {{.name = "hub", .state = "INSTALLING", .uniqueid = 1}}})});
  EXPECT_EQ(t.state, TunnelState::partial);
  EXPECT_EQ(t.children_with(ChildCoverage::in_progress), std::vector<std::string>{"hub"});
}

// Azure builds one CHILD SA per pair of prefixes of a policy-based
// connection: every configured pair must be covered for the tunnel to be up.
TEST(TunnelModel, PolicyBasedIsUpOnlyWhenEveryPrefixPairIsCovered) {
  const std::vector<std::string> pairs = {"hub-1", "hub-2", "hub-3"};
  IkeSpec ike{.name = "hub", .uniqueid = 4};
  ike.children = {{.name = "hub-1", .uniqueid = 1}, {.name = "hub-3", .state = "INSTALLING", .uniqueid = 3}};
  auto t = observe_tunnel("hub", pairs, {ike_sa(ike)});
  EXPECT_EQ(t.state, TunnelState::partial);
  EXPECT_EQ(t.children_with(ChildCoverage::installed), std::vector<std::string>{"hub-1"});
  EXPECT_EQ(t.children_with(ChildCoverage::in_progress), std::vector<std::string>{"hub-3"});
  EXPECT_EQ(t.children_with(ChildCoverage::missing), std::vector<std::string>{"hub-2"});

  ike.children = {{.name = "hub-1", .uniqueid = 1}, {.name = "hub-2", .uniqueid = 2}, {.name = "hub-3", .uniqueid = 3}};
  t = observe_tunnel("hub", pairs, {ike_sa(ike)});
  EXPECT_EQ(t.state, TunnelState::up);
  EXPECT_EQ(t.installed_child_sas(), 3u);
}

TEST(TunnelModel, RekeyingStatesStillCarryTraffic) {
  // During a CHILD rekey: the old one REKEYING then REKEYED, the new one INSTALLING.
  IkeSpec ike{.name = "hub", .uniqueid = 1, .state = "REKEYING"};
  ike.children = {{.name = "hub", .state = "REKEYED", .uniqueid = 1},
                  {.name = "hub", .state = "INSTALLING", .uniqueid = 2}};
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa(ike)});
  EXPECT_EQ(t.state, TunnelState::up);
}

TEST(TunnelModel, ChildUnderADyingIkeSaDoesNotCount) {
  IkeSpec dying{.name = "hub", .uniqueid = 1, .state = "DELETING", .children = {{.name = "hub", .uniqueid = 1}}};
  IkeSpec fresh{.name = "hub", .uniqueid = 2, .state = "ESTABLISHED"};
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa(dying), ike_sa(fresh)});
  EXPECT_EQ(t.state, TunnelState::partial);
  EXPECT_EQ(t.shown, 1u) << "the established IKE SA speaks for the connection";
}

// Both sides dialled at once: two established IKE SAs, each with a CHILD SA.
TEST(TunnelModel, DuplicateIkeSasShowTheOneThatReceivesMore) {
  IkeSpec ours{.name = "hub", .uniqueid = 1, .initiator = true,
               .children = {{.name = "hub", .uniqueid = 1, .packets_in = 3}}};
  IkeSpec azures{.name = "hub", .uniqueid = 2, .initiator = false,
                 .children = {{.name = "hub", .uniqueid = 2, .packets_in = 300}}};
  const auto t = observe_tunnel("hub", {"hub"}, {ike_sa(ours), ike_sa(azures)});
  EXPECT_EQ(t.state, TunnelState::up);
  EXPECT_EQ(t.established_ike_sas(), 2u);
  EXPECT_EQ(t.installed_child_sas(), 2u);
  ASSERT_NE(t.shown_sa(), nullptr);
  EXPECT_EQ(t.shown_sa()->uniqueid, 2u);
}

TEST(TunnelModel, NoConfiguredChildIsNeverUp) {
  const auto t = observe_tunnel("hub", {}, {ike_sa({.name = "hub", .uniqueid = 1})});
  EXPECT_EQ(t.state, TunnelState::partial);
}

TEST(TunnelModel, PrintableStates) {
  EXPECT_EQ(to_string(TunnelState::up), "UP");
  EXPECT_EQ(to_string(TunnelState::partial), "PARTIAL");
  EXPECT_EQ(to_string(TunnelState::connecting), "CONNECTING");
  EXPECT_EQ(to_string(TunnelState::down), "DOWN");
  EXPECT_EQ(to_string(ChildCoverage::in_progress), "in progress");
}

}  // namespace
}  // namespace ergw::gateway
