// ergwd on the fast path, without root: what status says about it, the routes ergwd hands the fast path, the charon plugin
// check, and FastpathDaemon's supervision against a fake fast path (a real
// unix control socket speaking the protocol, fake processes, a fake clock).
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/fastpath_daemon.h"
#include "gateway/ergwd/fastpath_status.h"
#include "tests/common/fake_clock.h"
#include "tests/gateway/fastpath/fake_fastpath.h"
#include "tests/host/fake_launcher.h"

namespace ergw::gateway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

ConnectionPlan plan(const std::string& name, uint32_t if_id, std::vector<std::string> routes) {
  ConnectionPlan p;
  p.name = name;
  p.if_id = if_id;
  for (const auto& r : routes) p.routes.push_back(*IpPrefix::parse(r));
  return p;
}

TEST(DataPlaneWarnings, LibipsecWithSeveralRouteBasedConnectionsSaysItCannotCarryThem) {
  const std::vector<ConnectionPlan> two = {plan("hub-a", 1, {"10.1.0.0/16"}), plan("hub-b", 2, {"10.2.0.0/16"}),
                                           plan("pb", 0, {"10.3.0.0/16"})};
  const auto w = data_plane_warnings(DataPlaneKind::libipsec, two);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("2 route-based connections side by side (hub-a, hub-b)"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("fastpath"), std::string::npos);
  EXPECT_TRUE(data_plane_warnings(DataPlaneKind::fastpath, two).empty());
  EXPECT_TRUE(data_plane_warnings(DataPlaneKind::libipsec, {two[0], two[2]}).empty());
}

// --- routes for route-based selection -----------------------------------------

IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

// Every route-based connection, static or BGP, gets its own routes into its
// own if_id: two BGP connections side by side each get what BIRD learned from
// their own session (the kernel routes both into the one TUN device).
TEST(FastpathRoutes, EveryRouteBasedConnectionGetsItsOwnRoutesIntoItsOwnIfId) {
  const std::vector<ConnectionPlan> plans = {plan("static", 1, {"10.1.0.0/16", "fd01::/64"}),
                                             plan("policy", 0, {"10.9.0.0/16"}),
                                             plan("bgp-a", 2, {"169.254.21.1/32"}),
                                             plan("bgp-b", 3, {"169.254.22.1/32"}),
                                             plan("bgp-c", 4, {"169.254.23.1/32"})};
  const LearnedRoutes learned = {{"bgp-a", {prefix("10.20.0.0/16"), prefix("10.21.0.0/16")}},
                                 {"bgp-b", {prefix("10.30.0.0/16"), prefix("fd30::/48")}},
                                 {"policy", {prefix("10.99.0.0/16")}},      // policy-based: its policies select
                                 {"gone", {prefix("10.98.0.0/16")}},        // no such connection any more
                                 {"bgp-c", {prefix("10.1.0.0/16")}}};       // configured for "static" already
  const std::set<FastpathRoute> expected = {
      {prefix("10.1.0.0/16"), 1},     {prefix("fd01::/64"), 1},    {prefix("169.254.21.1/32"), 2},
      {prefix("10.20.0.0/16"), 2},    {prefix("10.21.0.0/16"), 2}, {prefix("169.254.22.1/32"), 3},
      {prefix("10.30.0.0/16"), 3},    {prefix("fd30::/48"), 3},    {prefix("169.254.23.1/32"), 4}};
  EXPECT_EQ(plan_fastpath_routes(plans, learned, {}), expected);
  // Without BGP routes each connection has its configured ones, and no default route goes anywhere.
  const auto configured = plan_fastpath_routes(plans, {}, {});
  EXPECT_EQ(configured.size(), 5u);
  for (const auto& r : configured) EXPECT_NE(r.prefix.length(), 0) << r.prefix.to_string();
}

// The two tunnels of an active-active gateway: the VNet goes into the tunnels
// that are up, both (ECMP) unless one instance is preferred; with neither up
// it stays in both (dropped there, never sent elsewhere unencrypted).
TEST(FastpathRoutes, ActiveActiveRoutesFollowTheTunnelsState) {
  std::vector<ConnectionPlan> plans = {plan("aa-i0", 1, {"10.5.0.0/16"}), plan("aa-i1", 2, {"10.5.0.0/16"})};
  const FastpathRoute via1{prefix("10.5.0.0/16"), 1};
  const FastpathRoute via2{prefix("10.5.0.0/16"), 2};
  using Routes = std::set<FastpathRoute>;
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {"aa-i0", "aa-i1"}), (Routes{via1, via2}));
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {"aa-i1"}), (Routes{via2}));
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {"aa-i0"}), (Routes{via1}));
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {}), (Routes{via1, via2}));
  // preferredInstance 0: the second instance is a backup.
  plans[1].route_preference = 1;
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {"aa-i0", "aa-i1"}), (Routes{via1}));
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {"aa-i1"}), (Routes{via2}));
  EXPECT_EQ(plan_fastpath_routes(plans, {}, {}), (Routes{via1}));
  // BGP: the same prefix selected from both sessions (merge paths) goes into both.
  const std::vector<ConnectionPlan> bgp = {plan("bgp-i0", 3, {"10.12.255.4/32"}),
                                           plan("bgp-i1", 4, {"10.12.255.5/32"})};
  const LearnedRoutes learned = {{"bgp-i0", {prefix("10.12.0.0/16")}}, {"bgp-i1", {prefix("10.12.0.0/16")}}};
  EXPECT_EQ(plan_fastpath_routes(bgp, learned, {"bgp-i0", "bgp-i1"}),
            (Routes{{prefix("10.12.0.0/16"), 3}, {prefix("10.12.0.0/16"), 4}, {prefix("10.12.255.4/32"), 3},
                    {prefix("10.12.255.5/32"), 4}}));
}

// --- status -------------------------------------------------------------------

nlohmann::json fastpath_connection(uint32_t reqid, const char* spi_in, const char* spi_out, uint64_t packets,
                                   uint64_t icv) {
  nlohmann::json c = nlohmann::json::parse(R"({"if_id": 1, "drops": {"replayed": 0, "no_outbound_sa": 1}})");
  c["reqid"] = reqid;
  c["sas"] = nlohmann::json::array();
  c["sas"].push_back({{"spi", spi_in}, {"direction", "in"}});
  c["sas"].push_back({{"spi", spi_out}, {"direction", "out"}});
  c["packets_in"] = packets;
  c["bytes_in"] = packets * 100;
  c["packets_out"] = packets;
  c["bytes_out"] = packets * 100;
  c["drops"]["icv_mismatch"] = icv;
  return c;
}

vici::ChildSaInfo child(const char* spi_in, const char* spi_out) {
  vici::ChildSaInfo c;
  c.spi_in = spi_in;
  c.spi_out = spi_out;
  return c;
}

TEST(FastpathStatus, EachTunnelGetsTheCountersOfTheFastPathConnectionsCarryingItsSpis) {
  // hub: one IKE SA and a duplicate (both sides dialled at once); other: one; down: none.
  Tunnel hub;
  hub.ike_sas.resize(2);
  hub.ike_sas[0].child_sas = {child("c0000001", "8fbb6f37")};
  hub.ike_sas[1].child_sas = {child("c0000009", "00000abc")};
  Tunnel other;
  other.ike_sas.resize(1);
  other.ike_sas[0].child_sas = {child("c0000005", "12345678")};
  auto report = nlohmann::json::parse(R"({"state": "ready", "pid": 4711,
      "status": {"sas": 6, "policies": 6, "routes": 1, "table_drops": {"unknown_spi": 3}}})");
  report["status"]["connections"] = {fastpath_connection(1, "0xc0000001", "0x8fbb6f37", 10, 2),
                                     fastpath_connection(2, "0xc0000009", "0x00000abc", 5, 0),
                                     fastpath_connection(3, "0xc0000005", "0x12345678", 7, 0)};
  const auto daemon = fastpath_daemon_json(report);
  EXPECT_EQ(daemon.value("pid", 0), 4711);
  EXPECT_EQ(daemon["table_drops"].value("unknown_spi", 0), 3);
  EXPECT_FALSE(daemon.contains("status")) << "the raw document is not repeated";
  const auto hub_counters = fastpath_counters(hub, report["status"]);
  ASSERT_TRUE(hub_counters);
  EXPECT_EQ(hub_counters->packets_in, 15u);
  EXPECT_EQ(hub_counters->bytes_out, 1500u);
  EXPECT_EQ(hub_counters->drops.at("icv_mismatch"), 2u);
  EXPECT_EQ(hub_counters->drops.at("no_outbound_sa"), 2u);
  EXPECT_EQ(hub_counters->reqids, (std::vector<uint64_t>{1, 2}));
  const auto json = fastpath_counters_json(*hub_counters);
  EXPECT_EQ(json["drops"].value("replayed", 1), 0) << "zeros are reported too";
  EXPECT_EQ(fastpath_counters(other, report["status"])->packets_out, 7u);
  EXPECT_FALSE(fastpath_counters(Tunnel{}, report["status"])) << "no SA, no counters";
}

// --- supervision ----------------------------------------------------------------

class FastpathDaemonTest : public ::testing::Test {
 protected:
  FastpathDaemonTest()
      : dir_(fs::path(::testing::TempDir()) / ("ergwd-fp-" + std::to_string(getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        clock_(io_),
        launcher_(io_),
        fake_(io_, (dir_ / "fastpath.sock").string()) {
    fs::create_directories(dir_);
    options_.installation.binary = "/usr/sbin/ergw-fastpath";
    options_.socket = (dir_ / "fastpath.sock").string();
    options_.sequence_file = (dir_ / "fastpath.seq").string();
    options_.log_file = (dir_ / "fastpath.log").string();
    // The fake process is the fake fast path: it listens while it runs.
    launcher_.on_launch = [this](host::testing::FakeProcess& p) {
      fake_.start();
      p.on_end = [this] { fake_.stop(); };
    };
  }
  ~FastpathDaemonTest() override {
    daemon_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void create() {
    daemon_ = std::make_unique<FastpathDaemon>(io_.get_executor(), clock_, launcher_, options_);
    daemon_->on_ready([this] { ++ready_calls_; });
  }

  fs::path dir_;
  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_;
  host::testing::FakeLauncher launcher_;
  testing::FakeFastpath fake_;
  FastpathOptions options_;
  std::unique_ptr<FastpathDaemon> daemon_;
  int ready_calls_ = 0;
};

TEST_F(FastpathDaemonTest, StartsTheFastPathWaitsUntilItAnswersAndHandsItTheRoutes) {
  create();
  daemon_->set_routes({{*IpPrefix::parse("10.0.0.0/16"), 1}});
  daemon_->start();
  clock_.advance(0ms);
  ASSERT_EQ(launcher_.attempts(), 1);
  const std::vector<std::string> argv = {"/usr/sbin/ergw-fastpath", "--control", options_.socket, "--sequence-file",
                                         options_.sequence_file, "--tun", "ergwfp0"};
  EXPECT_EQ(launcher_.last().spec.argv, argv);
  EXPECT_FALSE(daemon_->ready());
  clock_.advance(100ms);  // the first readiness poll
  EXPECT_TRUE(daemon_->ready());
  EXPECT_EQ(ready_calls_, 1);
  EXPECT_EQ(fake_.routes(), (std::map<std::string, uint32_t>{{"10.0.0.0/16", 1}}));
  EXPECT_EQ(daemon_->report().value("state", ""), "ready");
  EXPECT_TRUE(daemon_->report().value("supervised", false));

  // A change sends only the difference.
  daemon_->set_routes({{*IpPrefix::parse("10.1.0.0/16"), 2}});
  clock_.advance(0ms);
  EXPECT_EQ(fake_.routes(), (std::map<std::string, uint32_t>{{"10.1.0.0/16", 2}}));

  // STATUS once a second, for ergw status.
  fake_.set_status({{"ready", true}, {"sas", 2}, {"connections", nlohmann::json::array()}});
  clock_.advance(1s);
  EXPECT_EQ(daemon_->report()["status"].value("sas", 0), 2);
}

TEST_F(FastpathDaemonTest, AKilledFastPathIsRestartedAndTheNewInstanceGetsTheRoutesAgain) {
  create();
  daemon_->set_routes({{*IpPrefix::parse("10.0.0.0/16"), 1}});
  daemon_->start();
  clock_.advance(100ms);
  ASSERT_TRUE(daemon_->ready());
  const auto first = fake_.instance();
  launcher_.last().signal(SIGKILL);
  clock_.advance(0ms);
  EXPECT_FALSE(daemon_->ready());
  EXPECT_EQ(daemon_->report().value("state", ""), "exited");
  EXPECT_NE(daemon_->report().value("last_exit", "").find("signal 9"), std::string::npos) << daemon_->report().dump();
  EXPECT_EQ(daemon_->report().value("restart_in_ms", 0), 200);
  clock_.advance(200ms);  // the supervisor's backoff
  EXPECT_EQ(launcher_.attempts(), 2);
  clock_.advance(100ms);  // the readiness poll
  ASSERT_TRUE(daemon_->ready());
  EXPECT_NE(fake_.instance(), first);
  EXPECT_EQ(ready_calls_, 2) << "ergwd routes into the new TUN device";
  EXPECT_EQ(fake_.routes(), (std::map<std::string, uint32_t>{{"10.0.0.0/16", 1}}));
  EXPECT_EQ(daemon_->report().value("restarts", 0), 1);
}

TEST_F(FastpathDaemonTest, AFastPathThatAnswersAlreadyIsAdoptedNotRestartedAndOutlivesErgwd) {
  fake_.start();  // left running by an ergwd that was killed
  create();
  daemon_->start();
  clock_.advance(0ms);
  EXPECT_EQ(launcher_.attempts(), 0);
  EXPECT_TRUE(daemon_->ready());
  EXPECT_FALSE(daemon_->report().value("supervised", true));
  // It dies: this ergwd starts its own.
  fake_.stop();
  clock_.advance(1s);  // the STATUS poll finds the connection gone
  clock_.advance(100ms);
  EXPECT_EQ(launcher_.attempts(), 1);
  clock_.advance(100ms);
  EXPECT_TRUE(daemon_->ready());
  // Stopping ergwd leaves the fast path running: it carries the tunnels.
  daemon_.reset();
  EXPECT_FALSE(launcher_.last().ended);
  EXPECT_TRUE(launcher_.last().signals.empty());
}

TEST_F(FastpathDaemonTest, AFastPathThatStopsAnsweringIsReportedAndNotKilled) {
  options_.call_timeout = 1000ms;
  create();
  daemon_->start();
  clock_.advance(100ms);
  ASSERT_TRUE(daemon_->ready());
  fake_.set_answering(false);  // SIGSTOP
  clock_.advance(1s);          // STATUS sent
  clock_.advance(1s);          // ... and not answered
  EXPECT_FALSE(daemon_->ready());
  EXPECT_EQ(daemon_->report().value("state", ""), "not answering");
  EXPECT_NE(daemon_->report().value("last_error", "").find("did not answer within 1000 ms"), std::string::npos);
  EXPECT_TRUE(launcher_.last().signals.empty()) << "a hung fast path is not killed: the plugin copes";
  fake_.set_answering(true);  // SIGCONT
  clock_.advance(1s);
  clock_.advance(1s);
  EXPECT_TRUE(daemon_->ready());
  EXPECT_EQ(ready_calls_, 1) << "the same instance: nothing to route again";
}

TEST_F(FastpathDaemonTest, AFastPathThatCannotStartIsReportedAndTriedAgain) {
  launcher_.refuse = "No such file or directory";
  create();
  daemon_->start();
  clock_.advance(0ms);
  EXPECT_EQ(daemon_->report().value("state", ""), "cannot start");
  EXPECT_NE(daemon_->report().value("last_error", "").find("No such file"), std::string::npos);
  launcher_.refuse.reset();
  clock_.advance(options_.backoff.max);
  clock_.advance(100ms);
  EXPECT_TRUE(daemon_->ready());
}

TEST_F(FastpathDaemonTest, CharonSettingsLoadErgwIpsecWithOurSocketAndNeverKernelLibipsec) {
  create();
  const auto settings = daemon_->charon_settings();
  EXPECT_NE(settings.find("ergw-ipsec {\n            load = 10\n            socket = " + options_.socket),
            std::string::npos)
      << settings;
  EXPECT_NE(settings.find("kernel-libipsec {\n            load = no"), std::string::npos) << settings;
}

}  // namespace
}  // namespace ergw::gateway
