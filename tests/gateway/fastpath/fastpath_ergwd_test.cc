// ergwd on the fast path, without root: the data plane choice, what status
// says about it, the routes ergwd hands the fast path, the charon plugin
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

host::KernelOffer offer(bool esp, bool tun = true) {
  host::KernelOffer o;
  o.release = "6.1.0-test";
  o.network_namespaces = {true, "unshare -n works"};
  o.esp = {esp, esp ? "ip xfrm state add: ok" : "Requested type not found"};
  o.esp_gcm = o.esp;
  o.xfrm_interfaces = o.esp;
  o.tun = {tun, tun ? "/dev/net/tun opens" : "no /dev/net/tun"};
  return o;
}

FastpathPresence present(bool binary, bool plugin) {
  FastpathPresence p;
  p.binary = binary;
  p.plugin = plugin;
  p.summary = std::string("ergw-fastpath ") + (binary ? "yes" : "no") + "; ergw-ipsec plugin " + (plugin ? "yes" : "no");
  return p;
}

ConnectionPlan plan(const std::string& name, uint32_t if_id, std::vector<std::string> routes) {
  ConnectionPlan p;
  p.name = name;
  p.if_id = if_id;
  for (const auto& r : routes) p.routes.push_back(*IpPrefix::parse(r));
  return p;
}

// --- the data plane choice ---------------------------------------------------

TEST(DataPlaneChoice, AutoPicksTheFastPathWheneverItAndThePluginAreInstalled) {
  for (bool esp : {false, true}) {
    const auto c = choose_data_plane(policy::DataPlane::automatic, offer(esp), present(true, true));
    EXPECT_EQ(c.kind, DataPlaneKind::fastpath) << esp;
    EXPECT_NE(c.why.find("the fast path is installed"), std::string::npos) << c.why;
    EXPECT_NE(c.limitations.find("ergwfp0"), std::string::npos);
  }
}

TEST(DataPlaneChoice, AutoWithoutThePluginOrTheBinaryFallsBackAndSaysWhatIsMissing) {
  auto c = choose_data_plane(policy::DataPlane::automatic, offer(false), present(true, false));
  EXPECT_EQ(c.kind, DataPlaneKind::libipsec);
  EXPECT_NE(c.why.find("ergw-ipsec plugin no"), std::string::npos) << c.why;
  c = choose_data_plane(policy::DataPlane::automatic, offer(true), present(false, true));
  EXPECT_EQ(c.kind, DataPlaneKind::kernel);
  // The fast path needs TUN as libipsec does.
  c = choose_data_plane(policy::DataPlane::automatic, offer(false, false), present(true, true));
  EXPECT_EQ(c.kind, DataPlaneKind::libipsec);
  EXPECT_NE(c.why.find("no data plane can work"), std::string::npos) << c.why;
}

TEST(DataPlaneChoice, ConfiguredFastpathIsKeptAndSaysWhatIsMissing) {
  const auto c = choose_data_plane(policy::DataPlane::fastpath, offer(true), present(false, true));
  EXPECT_EQ(c.kind, DataPlaneKind::fastpath);
  EXPECT_NE(c.why.find("configured (dataPlane: fastpath) although"), std::string::npos) << c.why;
  EXPECT_EQ(choose_data_plane(policy::DataPlane::libipsec, offer(false), present(true, true)).kind,
            DataPlaneKind::libipsec);
  EXPECT_EQ(tunnel_device(DataPlaneKind::fastpath, 7), "ergwfp0");
  EXPECT_EQ(data_plane_name(DataPlaneKind::fastpath), "fastpath");
}

TEST(DataPlaneChoice, FindFastpathChecksTheFilesItIsGiven) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("ergw-find-fastpath-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto binary = dir / "ergw-fastpath";
  const auto plugin = dir / "libstrongswan-ergw-ipsec.so";
  std::ofstream(binary) << "#!/bin/sh\n";
  std::ofstream(plugin) << "";
  auto p = find_fastpath({binary.string(), plugin.string()});
  EXPECT_FALSE(p.binary) << "not executable yet: " << p.summary;
  ::chmod(binary.c_str(), 0755);
  p = find_fastpath({binary.string(), plugin.string()});
  EXPECT_TRUE(p.present()) << p.summary;
  p = find_fastpath({binary.string(), (dir / "missing.so").string()});
  EXPECT_FALSE(p.present());
  EXPECT_NE(p.summary.find("missing.so: No such file or directory"), std::string::npos) << p.summary;
  fs::remove_all(dir);
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

TEST(FastpathRoutes, RouteBasedConnectionsGetTheirPrefixesAndTheFirstBgpOneTheDefault) {
  const std::vector<ConnectionPlan> plans = {plan("static", 1, {"10.1.0.0/16", "fd01::/64"}),
                                             plan("policy", 0, {"10.9.0.0/16"}),
                                             plan("bgp-a", 2, {"169.254.21.1/32"}), plan("bgp-b", 3, {})};
  const auto routes = plan_fastpath_routes(plans, {"bgp-a", "bgp-b"});
  const std::set<FastpathRoute> expected = {{*IpPrefix::parse("10.1.0.0/16"), 1},
                                            {*IpPrefix::parse("fd01::/64"), 1},
                                            {*IpPrefix::parse("169.254.21.1/32"), 2},
                                            {*IpPrefix::parse("0.0.0.0/0"), 2},
                                            {*IpPrefix::parse("::/0"), 2}};
  EXPECT_EQ(routes, expected);
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

TEST(FastpathStatus, EachConnectionGetsTheCountersOfTheFastPathConnectionsCarryingItsSpis) {
  auto status = nlohmann::json::parse(R"({"connections": [
      {"name": "hub", "children": [{"spi_in": "c0000001", "spi_out": "8fbb6f37"}],
       "duplicates": [{"children": [{"spi_in": "c0000009", "spi_out": "00000abc"}]}]},
      {"name": "other", "children": [{"spi_in": "c0000005", "spi_out": "12345678"}]},
      {"name": "down"}]})");
  auto report = nlohmann::json::parse(R"({"state": "ready", "pid": 4711,
      "status": {"sas": 6, "policies": 6, "routes": 1, "table_drops": {"unknown_spi": 3}}})");
  report["status"]["connections"] = {fastpath_connection(1, "0xc0000001", "0x8fbb6f37", 10, 2),
                                     fastpath_connection(2, "0xc0000009", "0x00000abc", 5, 0),
                                     fastpath_connection(3, "0xc0000005", "0x12345678", 7, 0)};
  add_fastpath_status(status, report);
  EXPECT_EQ(status["fastpath"].value("pid", 0), 4711);
  EXPECT_EQ(status["fastpath"]["table_drops"].value("unknown_spi", 0), 3);
  EXPECT_FALSE(status["fastpath"].contains("status")) << "the raw document is not repeated";
  const auto& hub = status["connections"][0]["fastpath"];
  EXPECT_EQ(hub.value("packets_in", 0), 15);
  EXPECT_EQ(hub.value("bytes_out", 0), 1500);
  EXPECT_EQ(hub["drops"].value("icv_mismatch", 0), 2);
  EXPECT_EQ(hub["drops"].value("no_outbound_sa", 0), 2);
  EXPECT_EQ(hub["reqids"], nlohmann::json({1, 2}));
  EXPECT_EQ(status["connections"][1]["fastpath"].value("packets_out", 0), 7);
  EXPECT_FALSE(status["connections"][2].contains("fastpath")) << "no SA, no counters";
}

TEST(CharonBackend, EachDataPlaneNeedsItsPluginAndNeverKernelLibipsecBesideErgwIpsec) {
  EXPECT_EQ(charon_backend_problem(DataPlaneKind::fastpath, {"aes", "ergw-ipsec", "kernel-netlink"}), "");
  EXPECT_NE(charon_backend_problem(DataPlaneKind::fastpath, {"kernel-netlink"}).find("has not loaded the ergw-ipsec"),
            std::string::npos);
  EXPECT_NE(charon_backend_problem(DataPlaneKind::fastpath, {"ergw-ipsec", "kernel-libipsec"}).find("kernel-libipsec"),
            std::string::npos);
  EXPECT_EQ(charon_backend_problem(DataPlaneKind::libipsec, {"kernel-libipsec", "kernel-netlink"}), "");
  EXPECT_NE(charon_backend_problem(DataPlaneKind::libipsec, {"ergw-ipsec"}), "");
  EXPECT_EQ(charon_backend_problem(DataPlaneKind::kernel, {"kernel-netlink"}), "");
  EXPECT_NE(charon_backend_problem(DataPlaneKind::kernel, {"kernel-libipsec", "kernel-netlink"}), "");
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
