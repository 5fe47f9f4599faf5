// build_observation: ergwd's view of charon's SAs turned into the metrics'
// Observation. Synthetic list-sas answers (no charon needed): up only with
// every configured CHILD SA installed under an established IKE SA, SA counts,
// rekey and establishment times, traffic totals that survive a rekey (a new
// CHILD SA id) and charon going away, connections that leave the
// configuration ending their series.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "gateway/ergwd/reconciler.h"
#include "gateway/ergwd/state_publisher.h"

namespace ergw::gateway {
namespace {

constexpr int64_t kNow = 1'700'000'000;

ConnectionPlan plan(const std::string& name, bool dial, bool peer_dials) {
  ConnectionPlan p;
  p.name = name;
  p.dial = dial;
  p.peer_dials = peer_dials;
  p.children = {name};
  p.remote = "172.16.0.2";
  p.fingerprint = name + "-fp";
  return p;
}

vici::IkeSaInfo ike(const std::string& name, uint64_t id, const std::string& state) {
  vici::IkeSaInfo sa;
  sa.name = name;
  sa.uniqueid = id;
  sa.state = state;
  sa.established = 100;
  sa.rekey_time = 2000;
  return sa;
}

vici::ChildSaInfo child(const std::string& name, uint64_t id, uint64_t bytes, const std::string& state = "INSTALLED") {
  vici::ChildSaInfo c;
  c.name = name;
  c.uniqueid = id;
  c.state = state;
  c.bytes_in = bytes;
  c.packets_in = bytes / 100;
  c.bytes_out = 2 * bytes;
  c.packets_out = bytes / 50;
  c.rekey_time = 500;
  return c;
}

class BuildObservationTest : public ::testing::Test {
 protected:
  BuildObservationTest() : client_(io_.get_executor(), vici::ClientOptions{}), reconciler_(io_, client_, {}) {
    reconciler_.set_desired({plan("hub", true, true), plan("spoke", false, true)});
    reconciler_.charon_connected();  // no pass runs: the io_context never runs
  }
  metrics::Observation observe(const std::vector<vici::IkeSaInfo>& sas) {
    return build_observation(reconciler_, sas, std::nullopt, totals_, failures_, kNow);
  }
  static const metrics::ConnectionObservation& find(const metrics::Observation& o, const std::string& name) {
    for (const auto& c : o.connections) {
      if (c.name == name) return c;
    }
    throw std::runtime_error("no connection " + name);
  }

  boost::asio::io_context io_;
  vici::Client client_;
  Reconciler reconciler_;
  metrics::TrafficTotals totals_;
  FailureHistory failures_;
};

TEST_F(BuildObservationTest, UpNeedsEveryChildInstalledUnderAnEstablishedIkeSa) {
  auto hub = ike("hub", 1, "ESTABLISHED");
  hub.child_sas = {child("hub", 10, 1000)};
  auto spoke = ike("spoke", 2, "ESTABLISHED");
  spoke.child_sas = {child("spoke", 20, 0, "REKEYING")};
  auto o = observe({hub, spoke});
  const auto& h = find(o, "hub");
  EXPECT_TRUE(h.up);
  EXPECT_FALSE(h.connecting);
  EXPECT_EQ(h.ike_sas, 1u);
  EXPECT_EQ(h.child_sas, 1u);
  EXPECT_EQ(h.established_at, kNow - 100);
  EXPECT_EQ(h.ike_rekey_at, kNow + 2000);
  EXPECT_EQ(h.child_rekey_at, kNow + 500);
  EXPECT_EQ(h.mode, "Default");
  EXPECT_EQ(h.traffic.rx_bytes, 1000u);
  EXPECT_EQ(h.traffic.tx_bytes, 2000u);
  const auto& s = find(o, "spoke");
  EXPECT_FALSE(s.up) << "a CHILD SA that is not installed is not up";
  EXPECT_EQ(s.mode, "InitiatorOnly");
  EXPECT_FALSE(s.dials);
  EXPECT_TRUE(o.daemons.charon_up);
}

TEST_F(BuildObservationTest, ConnectingWithoutAnEstablishedIkeSa) {
  auto o = observe({ike("hub", 1, "CONNECTING")});
  EXPECT_FALSE(find(o, "hub").up);
  EXPECT_TRUE(find(o, "hub").connecting);
  EXPECT_EQ(find(o, "hub").ike_sas, 0u);
  EXPECT_FALSE(find(o, "hub").established_at.has_value());
}

TEST_F(BuildObservationTest, TotalsStayMonotonicAcrossARekeyAndCharonGoingAway) {
  auto hub = ike("hub", 1, "ESTABLISHED");
  hub.child_sas = {child("hub", 10, 1000)};
  observe({hub});
  hub.child_sas = {child("hub", 10, 1500)};
  EXPECT_EQ(find(observe({hub}), "hub").traffic.rx_bytes, 1500u);
  // Rekeyed: a new CHILD SA starts at zero; the old one's 1500 stay counted.
  hub.child_sas = {child("hub", 11, 200)};
  EXPECT_EQ(find(observe({hub}), "hub").traffic.rx_bytes, 1700u);
  // charon restarts: every SA is gone, then new ones with small ids again.
  reconciler_.charon_disconnected("test");
  totals_.retire_all();
  EXPECT_EQ(find(observe({}), "hub").traffic.rx_bytes, 1700u);
  reconciler_.charon_connected();
  hub = ike("hub", 1, "ESTABLISHED");
  hub.child_sas = {child("hub", 10, 50)};
  const auto after = find(observe({hub}), "hub").traffic;
  EXPECT_EQ(after.rx_bytes, 1750u);
  EXPECT_EQ(after.tx_bytes, 3400u + 100u);
}

TEST_F(BuildObservationTest, ARemovedConnectionEndsItsSeries) {
  auto spoke = ike("spoke", 2, "ESTABLISHED");
  spoke.child_sas = {child("spoke", 20, 700)};
  observe({spoke});
  reconciler_.set_desired({plan("hub", true, true)});
  auto o = observe({});
  EXPECT_EQ(o.connections.size(), 1u);
  const auto names = totals_.connections();
  EXPECT_EQ(std::count(names.begin(), names.end(), "spoke"), 0);
}

TEST_F(BuildObservationTest, BgpPeersFromTheControllersReport) {
  nlohmann::json bgp = {{"enabled", true},
                        {"bird", {{"running", true}}},
                        {"sessions",
                         {{{"protocol", "azure_hub"},
                           {"connection", "hub"},
                           {"state", "Established"},
                           {"uptime_seconds", 42},
                           {"prefixes_in", 3},
                           {"prefixes_filtered", 1},
                           {"prefixes_out", 2}}}}};
  auto o = build_observation(reconciler_, {}, bgp, totals_, failures_, kNow);
  ASSERT_EQ(o.bgp_peers.size(), 1u);
  EXPECT_EQ(o.bgp_peers[0].peer, "azure_hub");
  EXPECT_EQ(o.bgp_peers[0].routes_received, 4u);
  EXPECT_EQ(o.bgp_peers[0].routes_accepted, 3u);
  EXPECT_EQ(o.bgp_peers[0].routes_advertised, 2u);
  EXPECT_EQ(o.bgp_peers[0].uptime_seconds, 42);
  EXPECT_EQ(o.daemons.bird_up, true);
}

}  // namespace
}  // namespace ergw::gateway
