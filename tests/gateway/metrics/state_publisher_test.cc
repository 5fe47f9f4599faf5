// build_observation: ergwd's status snapshot (take_snapshot's plain values,
// made by hand here: no charon, no reconciler) turned into the metrics'
// Observation. Up only as the one tunnel model says (every configured CHILD
// installed under an established IKE SA), SA counts, rekey and establishment
// times, traffic totals that survive a CHILD rekey, an IKE rekey (the same
// CHILD SA under a new IKE SA) and charon going away, failures and rekeys as
// the HealthTracker counted them, the last failure kept after recovery, the
// data plane's drops folded into the bounded reasons, BGP from the report,
// connections that leave the configuration ending their series.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>

#include "gateway/ergwd/state_publisher.h"
#include "gateway/ergwd/tunnel.h"

namespace ergw::gateway {
namespace {

constexpr int64_t kNow = 1'700'000'000;
const std::vector<vici::IkeSaInfo> kNoSas;

vici::IkeSaInfo ike(const std::string& name, uint64_t id, vici::IkeSaState state) {
  vici::IkeSaInfo sa;
  sa.name = name;
  sa.uniqueid = id;
  sa.state = state;
  sa.established = 100;
  sa.rekey_time = 2000;
  return sa;
}

vici::ChildSaInfo child(const std::string& name, uint64_t id, uint64_t bytes,
                        vici::ChildSaState state = vici::ChildSaState::installed) {
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

ConnectionSnapshot connection(const std::string& name, bool initiates, bool azure_initiates,
                              const std::vector<vici::IkeSaInfo>& sas) {
  ConnectionSnapshot c;
  c.name = name;
  c.remote = "172.16.0.2";
  c.initiates = initiates;
  c.azure_initiates = azure_initiates;
  c.if_id = 1;
  c.tunnel = observe_tunnel(name, {name}, sas);
  return c;
}

class BuildObservationTest : public ::testing::Test {
 protected:
  // hub: both dial; spoke: Azure only initiates.
  StatusSnapshot snapshot(const std::vector<vici::IkeSaInfo>& sas, bool with_spoke = true) const {
    StatusSnapshot s;
    s.taken_at = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
    s.charon_connected = charon_up_;
    s.data_plane.kind = DataPlaneKind::libipsec;
    s.connections.push_back(connection("hub", true, true, sas));
    if (with_spoke) s.connections.push_back(connection("spoke", false, true, sas));
    return s;
  }
  metrics::Observation observe(const StatusSnapshot& s, const nlohmann::json& report = nlohmann::json::object()) {
    return build_observation(s, report, totals_);
  }
  metrics::Observation observe(const std::vector<vici::IkeSaInfo>& sas) { return observe(snapshot(sas)); }
  static const metrics::ConnectionObservation& find(const metrics::Observation& o, const std::string& name) {
    for (const auto& c : o.connections) {
      if (c.name == name) return c;
    }
    throw std::runtime_error("no connection " + name);
  }

  bool charon_up_ = true;
  metrics::TrafficTotals totals_;
};

// The five bounded reasons' counts, in the order ts_mismatch, replay,
// integrity, no_sa, other.
void expect_drops(const std::map<metrics::DropReason, uint64_t>& drops, std::array<uint64_t, 5> want) {
  const metrics::DropReason order[] = {metrics::DropReason::ts_mismatch, metrics::DropReason::replay,
                                       metrics::DropReason::integrity, metrics::DropReason::no_sa,
                                       metrics::DropReason::other};
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(drops.count(order[i])) << "reason " << i;
    EXPECT_EQ(drops.at(order[i]), want[i]) << "reason " << i;
  }
}

TEST_F(BuildObservationTest, UpNeedsEveryChildInstalledUnderAnEstablishedIkeSa) {
  auto hub = ike("hub", 1, vici::IkeSaState::established);
  hub.child_sas = {child("hub", 10, 1000)};
  auto spoke = ike("spoke", 2, vici::IkeSaState::established);
  spoke.child_sas = {child("spoke", 20, 0, vici::ChildSaState::installing)};
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
  EXPECT_TRUE(s.connecting) << "PARTIAL";
  EXPECT_EQ(s.mode, "InitiatorOnly");
  EXPECT_FALSE(s.dials);
  EXPECT_TRUE(o.daemons.charon_up);
  EXPECT_EQ(o.daemons.data_plane, "libipsec");
  EXPECT_TRUE(h.traffic.drops.empty()) << "libipsec reports no drops per connection";
}

TEST_F(BuildObservationTest, ThePfsProbesStateIsOneOfTheMetricsStates) {
  for (const auto state : {PfsProbeState::off, PfsProbeState::waiting, PfsProbeState::probing,
                           PfsProbeState::verified, PfsProbeState::mismatch, PfsProbeState::inconclusive}) {
    auto s = snapshot({}, /*with_spoke=*/false);
    s.connections.front().pfs = PfsProbeStatus{};
    s.connections.front().pfs->state = state;
    const auto observation = observe(s);
    const auto& c = find(observation, "hub");
    EXPECT_EQ(c.pfs_probe, to_string(state));
    EXPECT_NE(std::find_if(std::begin(metrics::kPfsProbeStates), std::end(metrics::kPfsProbeStates),
                           [&](const char* name) { return c.pfs_probe == name; }),
              std::end(metrics::kPfsProbeStates))
        << c.pfs_probe << " is not among the metric's states";
  }
  const auto without = observe(snapshot({}, false));
  EXPECT_EQ(find(without, "hub").pfs_probe, "") << "no probe status, no series";
}

TEST_F(BuildObservationTest, ConnectingWithoutAnEstablishedIkeSa) {
  auto o = observe({ike("hub", 1, vici::IkeSaState::connecting)});
  EXPECT_FALSE(find(o, "hub").up);
  EXPECT_TRUE(find(o, "hub").connecting);
  EXPECT_EQ(find(o, "hub").ike_sas, 0u);
  EXPECT_FALSE(find(o, "hub").established_at.has_value());
}

TEST_F(BuildObservationTest, TotalsStayMonotonicAcrossRekeysAndCharonGoingAway) {
  auto hub = ike("hub", 1, vici::IkeSaState::established);
  hub.child_sas = {child("hub", 10, 1000)};
  observe({hub});
  hub.child_sas = {child("hub", 10, 1500)};
  EXPECT_EQ(find(observe({hub}), "hub").traffic.rx_bytes, 1500u);
  // CHILD rekey: a new CHILD SA starts at zero; the old one's 1500 stay counted.
  hub.child_sas = {child("hub", 11, 200)};
  EXPECT_EQ(find(observe({hub}), "hub").traffic.rx_bytes, 1700u);
  // IKE rekey: the same CHILD SA, counters going on, under a new IKE SA.
  auto rekeyed = ike("hub", 2, vici::IkeSaState::established);
  rekeyed.child_sas = {child("hub", 11, 300)};
  EXPECT_EQ(find(observe({rekeyed}), "hub").traffic.rx_bytes, 1800u);
  // charon restarts: every SA is gone, then new ones with small ids again.
  charon_up_ = false;
  totals_.retire_all();
  EXPECT_EQ(find(observe(kNoSas), "hub").traffic.rx_bytes, 1800u);
  charon_up_ = true;
  hub = ike("hub", 1, vici::IkeSaState::established);
  hub.child_sas = {child("hub", 10, 50)};
  const auto after = find(observe({hub}), "hub").traffic;
  EXPECT_EQ(after.rx_bytes, 1850u);
  EXPECT_EQ(after.tx_bytes, 3600u + 100u);
}

TEST_F(BuildObservationTest, AStaleAnswerIsNotSampled) {
  auto hub = ike("hub", 1, vici::IkeSaState::established);
  hub.child_sas = {child("hub", 10, 1000)};
  observe({hub});
  observe(kNoSas);  // the SA is gone: retired with its 1000
  // charon did not answer: the collector hands over its last answer, which
  // still lists the SA; counting it again would double it.
  auto s = snapshot({hub});
  s.charon_error = "charon did not answer within 1000 ms";
  EXPECT_EQ(find(observe(s), "hub").traffic.rx_bytes, 1000u);
}

TEST_F(BuildObservationTest, FailuresAndRekeysAsTheHealthTrackerCountedThem) {
  auto s = snapshot({});
  auto& h = s.connections[0].health;
  h.failures[TunnelFailure::key_refused] = 2;
  h.failures[TunnelFailure::no_acceptable_proposal] = 1;
  h.ike_rekeys = 3;
  h.child_rekeys = 5;
  // The tunnel recovered (last_error cleared), the last failure stays.
  h.last_failure = FailureRecord{TunnelFailure::no_acceptable_proposal, "NO_PROPOSAL_CHOSEN", "",
                                 std::chrono::system_clock::time_point(std::chrono::seconds(kNow - 60))};
  const auto o = observe(s);
  const auto& c = find(o, "hub");
  EXPECT_EQ(c.ike_failures.at("key_refused"), 2u);
  EXPECT_EQ(c.ike_failures.at("no_acceptable_proposal"), 1u);
  EXPECT_EQ(c.ike_failures.at("psk_mismatch"), 0u) << "every code is there from the start";
  EXPECT_EQ(c.ike_rekeys, 3u);
  EXPECT_EQ(c.child_rekeys, 5u);
  EXPECT_EQ(c.last_error, "no_acceptable_proposal");
  EXPECT_EQ(c.last_error_reason, "no proposal chosen");
  EXPECT_EQ(c.last_error_at, kNow - 60);
  EXPECT_FALSE(c.last_error_hint.empty());
}

TEST_F(BuildObservationTest, TheDataPlanesDropsFoldIntoTheBoundedReasons) {
  // The shape the fast path's per-connection counters take in the status.
  nlohmann::json report = {
      {"connections",
       {{{"name", "hub"},
         {"fastpath",
          {{"packets_in", 10},
           {"drops", {{"inner_selector", 4}, {"replayed", 2}, {"left_of_window", 1}, {"icv_mismatch", 3},
                      {"no_outbound_sa", 5}, {"bad_padding", 6}}}}}}}}};
  const auto o = observe(snapshot({}), report);
  expect_drops(find(o, "hub").traffic.drops, {4, 3, 3, 5, 6});
  EXPECT_TRUE(find(o, "spoke").traffic.drops.empty()) << "no data-plane counters for it in the report";
}

TEST_F(BuildObservationTest, TheFastPathsDropsReachTheMetricsThroughTheStatus) {
  // The fast path's STATUS document as ergw-fastpath sends it (one
  // connection per reqid, its SAs by SPI, every drop reason it names), made
  // part of the status by take_snapshot's fastpath_counters and
  // status_report, then folded by build_observation: the path ergwd takes.
  auto sa = ike("hub", 1, vici::IkeSaState::established);
  sa.child_sas.push_back(child("hub", 7, 1000));
  sa.child_sas.back().spi_in = "c0000001";
  sa.child_sas.back().spi_out = "c0000002";
  auto s = snapshot({sa}, false);
  s.data_plane.kind = DataPlaneKind::fastpath;
  const nlohmann::json document = {
      {"connections",
       {{{"reqid", 1},
         {"sas", {{{"spi", "0xc0000001"}, {"direction", "in"}}, {{"spi", "0xc0000002"}, {"direction", "out"}}}},
         {"packets_in", 10u},
         {"bytes_in", 1000u},
         {"drops",
          {{"inner_selector", 4u}, {"no_inbound_policy", 1u}, {"replayed", 2u}, {"left_of_window", 1u},
           {"icv_mismatch", 3u}, {"unknown_spi", 0u}, {"sa_expired", 2u}, {"no_outbound_sa", 5u},
           {"policy_drop", 6u}, {"wrong_encap", 1u}, {"bad_padding", 0u}}}}}}};
  s.connections[0].fastpath = fastpath_counters(s.connections[0].tunnel, document);
  ASSERT_TRUE(s.connections[0].fastpath) << "the fast path's connection shares the tunnel's SPIs";
  const auto report = status_report(s, CollectedStatus{});
  const auto o = observe(s, report);
  expect_drops(find(o, "hub").traffic.drops, {5, 3, 3, 7, 7});
}

TEST_F(BuildObservationTest, TheDataPlanesDropsNeverGoBack) {
  auto report = [](uint64_t replayed, uint64_t icv) {
    return nlohmann::json{
        {"connections",
         {{{"name", "hub"}, {"fastpath", {{"drops", {{"replayed", replayed}, {"icv_mismatch", icv}}}}}}}}};
  };
  expect_drops(find(observe(snapshot({}), report(2, 1)), "hub").traffic.drops, {0, 2, 1, 0, 0});
  // charon restarting: no SAs, so the fast path's counters are not in the
  // status; the series stay with their counts.
  expect_drops(find(observe(snapshot({}), nlohmann::json::object()), "hub").traffic.drops, {0, 2, 1, 0, 0});
  // The fast path's connection made anew counts from zero: added on top.
  expect_drops(find(observe(snapshot({}), report(1, 1)), "hub").traffic.drops, {0, 3, 2, 0, 0});
  expect_drops(find(observe(snapshot({}), report(4, 1)), "hub").traffic.drops, {0, 6, 2, 0, 0});
}

TEST_F(BuildObservationTest, ARemovedConnectionEndsItsSeries) {
  auto spoke = ike("spoke", 2, vici::IkeSaState::established);
  spoke.child_sas = {child("spoke", 20, 700)};
  observe({spoke});
  auto o = observe(snapshot({}, /*with_spoke=*/false));
  EXPECT_EQ(o.connections.size(), 1u);
  const auto names = totals_.connections();
  EXPECT_EQ(std::count(names.begin(), names.end(), "spoke"), 0);
}

TEST_F(BuildObservationTest, BgpPeersFromTheReport) {
  nlohmann::json report = {{"bgp",
                            {{"enabled", true},
                             {"bird", {{"running", true}}},
                             {"sessions",
                              {{{"protocol", "azure_hub"},
                                {"connection", "hub"},
                                {"state", "Established"},
                                {"uptime_seconds", 42},
                                {"prefixes_in", 3},
                                {"prefixes_filtered", 1},
                                {"prefixes_out", 2}}}}}}};
  auto o = observe(snapshot({}), report);
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
