// Status building: a snapshot (plain values) becomes the JSON report, which
// `ergw status` prints as a table. No charon, no reconciler: the snapshot is
// made by hand, as the metrics and the REST API will read it.
#include "gateway/ergwd/status.h"

#include <gtest/gtest.h>

#include "gateway/cli/status_command.h"
#include "tests/common/fake_clock.h"
#include "tests/gateway/ergwd/sa_messages.h"

namespace ergw::gateway {
namespace {

using testing::IkeSpec;
using testing::ike_sa;

StatusSnapshot snapshot_with(ConnectionSnapshot c, std::chrono::system_clock::time_point now) {
  StatusSnapshot s;
  s.taken_at = now;
  s.charon_connected = true;
  s.data_plane.kind = DataPlaneKind::libipsec;
  s.data_plane.why = "configured (dataPlane: libipsec)";
  s.connections.push_back(std::move(c));
  return s;
}

ConnectionSnapshot connection(const std::vector<std::string>& children, const std::vector<vici::IkeSaInfo>& sas) {
  ConnectionSnapshot c;
  c.name = "hub";
  c.remote = "172.16.0.2";
  c.initiates = true;
  c.azure_initiates = true;
  c.if_id = 1;
  c.device = "ipsec0";
  c.tunnel = observe_tunnel("hub", children, sas);
  c.routes = {{"10.0.2.0/24", "ipsec0", true}};
  return c;
}

class StatusTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_{io_};
};

TEST_F(StatusTest, UpConnection) {
  auto c = connection({"hub"}, {ike_sa({.name = "hub", .uniqueid = 1, .children = {{.name = "hub", .packets_in = 7}}})});
  c.health.last_change = "CHILD up";
  c.health.last_change_at = clock_.wall_now();
  c.health.ike_rekeys = 2;
  const auto j = status_json(snapshot_with(c, clock_.wall_now()));
  EXPECT_EQ(j["taken_at"], "2026-11-30T12:00:00Z");
  EXPECT_EQ(j["charon"], "connected");
  EXPECT_EQ(j["data_plane"]["kind"], "libipsec");
  const auto& conn = j["connections"][0];
  EXPECT_EQ(conn["state"], "UP");
  EXPECT_EQ(conn["route_based"], true);
  EXPECT_EQ(conn["if_id"], 1);
  EXPECT_EQ(conn["device"], "ipsec0");
  EXPECT_EQ(conn["ike"]["state"], "ESTABLISHED");
  EXPECT_EQ(conn["ike"]["encryption"], "AES_GCM_16_256");
  EXPECT_EQ(conn["ike"]["dh_group"], "ECP_384");
  EXPECT_EQ(conn["children"][0]["state"], "INSTALLED");
  EXPECT_EQ(conn["children"][0]["packets_in"], 7);
  EXPECT_EQ(conn["ike_sas"], 1);
  EXPECT_TRUE(conn["duplicates"].empty());
  EXPECT_EQ(conn["configured_children"][0]["coverage"], "installed");
  EXPECT_EQ(conn["routes"][0]["installed"], true);
  EXPECT_EQ(conn["last_change"]["what"], "CHILD up");
  EXPECT_EQ(conn["rekeys"]["ike"], 2);
  EXPECT_FALSE(conn.contains("last_error"));
  const auto text = cli::format_status(j);
  EXPECT_NE(text.find("hub  UP  remote 172.16.0.2  (both dial)  dev ipsec0 if_id 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("without a CHILD SA"), std::string::npos) << text;
}

TEST_F(StatusTest, DownConnectionHasNoIkeSection) {
  const auto j = status_json(snapshot_with(connection({"hub"}, {}), clock_.wall_now()));
  EXPECT_EQ(j["connections"][0]["state"], "DOWN");
  EXPECT_FALSE(j["connections"][0].contains("ike"));
  EXPECT_EQ(j["connections"][0]["configured_children"][0]["coverage"], "missing");
}

TEST_F(StatusTest, PartialPolicyBasedConnectionNamesThePairsWithoutAChildSa) {
  auto c = connection({"hub-1", "hub-2", "hub-3"},
                      {ike_sa({.name = "hub",
                               .uniqueid = 1,
                               .children = {{.name = "hub-1", .uniqueid = 1},
                                            {.name = "hub-3", .state = "INSTALLING", .uniqueid = 3}}})});
  c.if_id = 0;
  const auto j = status_json(snapshot_with(c, clock_.wall_now()));
  EXPECT_EQ(j["connections"][0]["state"], "PARTIAL");
  EXPECT_EQ(j["connections"][0]["route_based"], false);
  const auto text = cli::format_status(j);
  EXPECT_NE(text.find("hub  PARTIAL"), std::string::npos) << text;
  EXPECT_NE(text.find("without a CHILD SA: hub-2 (missing), hub-3 (in progress)"), std::string::npos) << text;
}

TEST_F(StatusTest, LastErrorCarriesCodeReasonCauseAndWhatWasObserved) {
  auto c = connection({"hub"}, {});
  c.health.last_error = FailureRecord{TunnelFailure::no_connection_for_identities, "no matching peer config found",
                                      "the peer (172.16.0.2) identified itself as 'gw.example'", clock_.wall_now()};
  c.health.failures[TunnelFailure::no_connection_for_identities] = 3;
  const auto j = status_json(snapshot_with(c, clock_.wall_now()));
  const auto& e = j["connections"][0]["last_error"];
  EXPECT_EQ(e["code"], "no_connection_for_identities");
  EXPECT_EQ(e["reason"], "authentication failed");
  EXPECT_EQ(e["likely_cause"], "identity");
  EXPECT_EQ(e["observed"], "the peer (172.16.0.2) identified itself as 'gw.example'");
  EXPECT_EQ(e["detail"], "no matching peer config found");
  EXPECT_EQ(e["at"], "2026-11-30T12:00:00Z");
  EXPECT_FALSE(e["hint"].get<std::string>().empty());
  EXPECT_EQ(j["connections"][0]["failures"]["no_connection_for_identities"], 3);
  const auto text = cli::format_status(j);
  EXPECT_NE(text.find("last error: authentication failed (no_connection_for_identities; likely cause: identity) at "
                      "2026-11-30T12:00:00Z"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("observed: the peer (172.16.0.2) identified itself as 'gw.example'"), std::string::npos)
      << text;
}

TEST_F(StatusTest, UnattributedFailuresAreListedApart) {
  auto s = snapshot_with(connection({"hub"}, {}), clock_.wall_now());
  s.unattributed_failures.push_back({FailureRecord{TunnelFailure::no_matching_connection,
                                                   "no IKE config found for 172.16.0.1...203.0.113.9, sending "
                                                   "NO_PROPOSAL_CHOSEN",
                                                   "IKE from 203.0.113.9", clock_.wall_now()},
                                     "203.0.113.9"});
  const auto j = status_json(s);
  ASSERT_EQ(j["unattributed_failures"].size(), 1u);
  EXPECT_EQ(j["unattributed_failures"][0]["peer"], "203.0.113.9");
  EXPECT_EQ(j["unattributed_failures"][0]["code"], "no_matching_connection");
  const auto text = cli::format_status(j);
  EXPECT_NE(text.find("IKE from peers no connection is configured for:"), std::string::npos) << text;
  EXPECT_NE(text.find("203.0.113.9: no matching connection"), std::string::npos) << text;
}

TEST_F(StatusTest, CharonNotConnected) {
  StatusSnapshot s;
  s.taken_at = clock_.wall_now();
  s.charon_error = "charon is not connected";
  const auto j = status_json(s);
  EXPECT_EQ(j["charon"], "not connected");
  EXPECT_EQ(j["charon_error"], "charon is not connected");
  EXPECT_TRUE(j["connections"].empty());
}

TEST_F(StatusTest, SnapshotIsAValueThatOutlivesItsSaList) {
  StatusSnapshot kept;
  {
    std::vector<vici::IkeSaInfo> sas = {ike_sa({.name = "hub", .uniqueid = 1, .children = {{.name = "hub"}}})};
    kept = snapshot_with(connection({"hub"}, sas), clock_.wall_now());
  }
  StatusSnapshot copy = kept;
  EXPECT_EQ(copy.connections[0].tunnel.shown_sa()->uniqueid, 1u);
  EXPECT_EQ(status_json(copy)["connections"][0]["state"], "UP");
}

// libipsec with two route-based connections: the snapshot carries the
// warning data_plane_warnings() gives, and the table says it before anything.
TEST_F(StatusTest, LibipsecWithTwoRouteBasedConnectionsSaysItCannotCarryThem) {
  auto a = connection({"hub"}, {});
  auto b = connection({"hub-b"}, {});
  b.name = "hub-b";
  b.if_id = 2;
  ConnectionPlan plan_a;
  plan_a.name = a.name;
  plan_a.if_id = a.if_id;
  ConnectionPlan plan_b;
  plan_b.name = b.name;
  plan_b.if_id = b.if_id;
  auto s = snapshot_with(a, clock_.wall_now());
  s.connections.push_back(b);
  s.data_plane_warnings = data_plane_warnings(DataPlaneKind::libipsec, {plan_a, plan_b});
  const auto j = status_json(s);
  ASSERT_EQ(j["data_plane"]["warnings"].size(), 1u);
  const auto table = cli::format_status(j);
  EXPECT_NE(table.find("DATA PLANE: libipsec cannot carry 2 route-based connections side by side (hub, hub-b)"),
            std::string::npos)
      << table;
  // The fast path carries them: no warning.
  s.data_plane.kind = DataPlaneKind::fastpath;
  s.data_plane_warnings = data_plane_warnings(DataPlaneKind::fastpath, {plan_a, plan_b});
  EXPECT_EQ(cli::format_status(status_json(s)).find("DATA PLANE"), std::string::npos);
}

}  // namespace
}  // namespace ergw::gateway
