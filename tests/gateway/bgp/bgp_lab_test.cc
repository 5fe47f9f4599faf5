// BGP with Azure in the lab: ergwd runs BIRD on the appliance, the simulated
// Azure gateway runs BIRD the way Azure does (lab/azure/azure_bird.h).
// Nothing routes the VNet statically: the appliance learns 10.0.0.0/16 over
// BGP into ergw's table 1000, Azure learns 192.168.10.0/24. Charon's
// catch-all `default dev ipsec0` (table 220, which kernel-libipsec installs)
// is removed on both sides before traffic is checked, so only learned routes
// can carry it; the CHILD SA's counters must move.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab/azure/azure_lab.h"
#include "lab/azure/lab_config_file.h"
#include "lab/azure/pfs_probe_settled.h"
#include "gateway/cli/status_command.h"
#include "lab/traffic.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using lab::Node;

const fs::path kExamples = fs::path(ERGW_SOURCE_DIR) / "examples";

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json& conn0(nlohmann::json& config) { return config["connections"][0]; }

const nlohmann::json* session(const nlohmann::json& status) {
  if (!status.contains("bgp") || status["bgp"].value("sessions", nlohmann::json::array()).empty()) return nullptr;
  return &status["bgp"]["sessions"][0];
}

bool learned(const nlohmann::json& status, const std::string& prefix) {
  if (!status.contains("bgp")) return false;
  for (const auto& r : status["bgp"].value("routes", nlohmann::json::array())) {
    if (r.value("prefix", "") == prefix && r.value("installed", false)) return true;
  }
  return false;
}

// The value of the first sample of `name` whose labels contain every one of
// `labels` (`key="value"`) in a Prometheus text exposition.
std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name + "{")) continue;
    const auto close = line.find('}');
    if (close == std::string::npos) continue;
    const auto label_text = line.substr(0, close);
    if (std::all_of(labels.begin(), labels.end(),
                    [&](const std::string& l) { return label_text.find(l) != std::string::npos; })) {
      return std::stod(line.substr(close + 1));
    }
  }
  return std::nullopt;
}

bool established_and_learned(const nlohmann::json& status) {
  const auto* s = session(status);
  return s != nullptr && s->value("state", "") == "Established" && learned(status, "10.0.0.0/16");
}

class BgpLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
    if (!fs::exists("/usr/sbin/bird")) GTEST_SKIP() << "needs BIRD 2 (/usr/sbin/bird, Debian package bird2)";
    dir_ = fs::path(::testing::TempDir()) / ("ergw-bgp-" + std::to_string(getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure() && lab_) dump_logs();
    lab_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // On failure: what ergwd did, and what charon did with SAs on both sides.
  void dump_logs() {
    const auto dir = lab_->lab().state_dir();
    {
      std::ifstream in(dir / "ergwd.log");
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);) lines.push_back(line);
      std::cerr << "---- ergwd.log (last 80 lines)\n";
      for (size_t i = lines.size() > 80 ? lines.size() - 80 : 0; i < lines.size(); ++i) std::cerr << lines[i] << "\n";
    }
    for (const char* node : {"appliance", "azure-gw"}) {
      std::ifstream in(dir / node / "charon.log");
      std::cerr << "---- " << node << " charon.log (SA events)\n";
      for (std::string line; std::getline(in, line);) {
        for (const char* word : {"established", "deleting", "duplicate", "closing", "rekey", "initiating", "DELETE"}) {
          if (line.find(word) != std::string::npos) {
            std::cerr << line << "\n";
            break;
          }
        }
      }
    }
  }

  fs::path write(const std::string& name, const nlohmann::json& config) {
    return azure_lab::write_lab_config(dir_, name, config);
  }

  // appliance_on_fastpath: ergwd runs ergw-fastpath (charon hands it the SAs
  // through the ergw-ipsec plugin); otherwise the appliance runs libipsec.
  void start(const fs::path& config, bool appliance_on_fastpath = false) {
    AzureLabOptions options;
    options.config_file = config;
    options.ergwd_path = ERGWD_PATH;
    if (appliance_on_fastpath) {
      options.appliance_backend = lab::CharonBackend::ergw_ipsec;
      options.fastpath_path = ERGW_FASTPATH_PATH;
      options.ergw_ipsec_plugin_dir = ERGW_PLUGIN_DIR;
    }
    options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
    auto created = AzureLab::create(options);
    ASSERT_TRUE(created) << created.error();
    lab_ = std::move(created.value());
    ASSERT_NE(lab_->azure_bird(), nullptr) << "the configuration does not enable BGP";
  }

  nlohmann::json status() {
    auto s = lab_->status();
    EXPECT_TRUE(s) << s.error();
    return s ? s.value() : nlohmann::json::object();
  }

  // GET /metrics on ergwd's API socket (root's local socket: no key).
  std::string scrape_metrics() {
    auto r = lab_->lab().exec(Node::appliance, {"curl", "-sS", "--max-time", "5", "--unix-socket",
                                                lab_->api_socket(), "http://localhost/metrics"});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  std::string ip(Node node, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = lab_->lab().exec(node, argv);
    return r.out;
  }

  // Waits for the tunnel, then for the session and the learned VNet route.
  void expect_session(seconds timeout = seconds(120)) {
    auto up = lab_->wait_until_up(seconds(60));
    ASSERT_TRUE(up) << up.error();
    const auto t0 = std::chrono::steady_clock::now();
    auto s = lab_->wait_for(timeout, established_and_learned, "the BGP session and the learned VNet route");
    ASSERT_TRUE(s) << s.error();
    std::cerr << "BGP established and 10.0.0.0/16 learned "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
              << " ms after the tunnel was up\n";
  }

  bool azure_learned_onprem() {
    auto routes = lab_->azure_bird()->learned_routes();
    if (!routes) return false;
    for (const auto& r : routes.value()) {
      if (r.prefix.to_string() == "192.168.10.0/24" && r.primary) return true;
    }
    return false;
  }

  // Polls `predicate` every 250 ms until it holds or `timeout` passes.
  static bool eventually(seconds timeout, const std::function<bool()>& predicate) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return predicate();
  }

  // Packets in and out of each CHILD SA of the connection, by its SPIs, over
  // every established IKE SA: after both sides re-dialled at once, packets may
  // enter by one SA and leave by another.
  static std::map<std::string, uint64_t> child_packets(const nlohmann::json& status) {
    std::map<std::string, uint64_t> packets;
    for (const auto& child : cli::all_children(status["connections"][0])) {
      packets[child.value("spi_in", "") + "/" + child.value("spi_out", "")] +=
          child.value("packets_in", 0ull) + child.value("packets_out", 0ull);
    }
    return packets;
  }

  // What the CHILD SAs carried between two readings: an SA's growth, or all
  // of a new SA's packets. An SA that went away in between (a rekey, a
  // duplicate IKE SA replaced) takes its packets with it and is not counted:
  // summing the SAs instead would count that as traffic going backwards.
  static uint64_t packets_between(const std::map<std::string, uint64_t>& before,
                                  const std::map<std::string, uint64_t>& after) {
    uint64_t carried = 0;
    for (const auto& [spis, packets] : after) {
      const auto old = before.find(spis);
      const uint64_t base = old == before.end() ? 0 : old->second;
      if (packets > base) carried += packets - base;
    }
    return carried;
  }

  void remove_charon_catch_all_routes() {
    for (Node node : {Node::appliance, Node::azure_gw}) {
      while (lab_->lab().exec(node, {"ip", "rule", "del", "table", "220"}).ok()) {
      }
      EXPECT_EQ(ip(node, {"rule"}).find("lookup 220"), std::string::npos);
    }
  }

  void expect_traffic_through_esp() {
    // ergwd's PFS probe rekeys the CHILD SA about a second after each new
    // IKE SA is up (lab/azure/pfs_probe_settled.h): the ping is counted once
    // it has settled, so that it runs over one pair of SAs.
    auto settled = lab_->wait_for(
        seconds(60), [](const nlohmann::json& s) { return pfs_probe_settled(s["connections"][0]); },
        "ergwd's PFS probe to conclude");
    ASSERT_TRUE(settled) << settled.error();
    const auto before_status = status();
    const auto before = child_packets(before_status);
    lab::PingOptions options;
    options.count = 4;
    auto ping = lab::ping(lab_->lab().netns(Node::onprem), lab_->lab().address(Node::vnet), options);
    ASSERT_TRUE(ping) << ping.error();
    EXPECT_EQ(ping->received, 4) << "ping over the learned routes lost packets";
    const auto after = status();
    EXPECT_GE(packets_between(before, child_packets(after)), 8u)
        << "the CHILD SAs' counters did not move: traffic bypassed ESP";
    if (::testing::Test::HasFailure()) {
      std::cerr << "before the ping:\n"
                << cli::format_status(before_status) << "after the ping:\n"
                << cli::format_status(after) << "appliance routes:\n"
                << ip(Node::appliance, {"route", "show", "table", "all"}) << "azure-gw routes:\n"
                << ip(Node::azure_gw, {"route", "show", "table", "all"});
    }
  }

  // The fast path's packets out for the (first) connection, as ergw status shows them.
  uint64_t fastpath_packets_out() {
    const auto c = status()["connections"][0];
    return c.contains("fastpath") ? c["fastpath"].value("packets_out", uint64_t{0}) : 0;
  }

  // On the fast path the ping to the VNet host travels by the route BIRD
  // learned: the kernel picks it from ergw's table 1000 (proto bird, no
  // catch-all anywhere), and the fast path the connection by the same
  // prefix. Azure withdrawing the prefix stops the traffic (nothing else
  // routes the VNet); announcing it again brings it back through ESP.
  void expect_ping_follows_the_learned_route() {
    const std::string vnet_host = lab_->lab().address(Node::vnet);
    const auto learned_route = ip(Node::appliance, {"route", "show", "table", "1000", "10.0.0.0/16"});
    std::cerr << "appliance, table 1000: " << learned_route;
    EXPECT_NE(learned_route.find("dev ergwfp0 proto bird"), std::string::npos) << learned_route;
    const auto chosen =
        ip(Node::appliance, {"route", "get", vnet_host, "from", lab_->lab().address(Node::onprem), "iif", "lan0"});
    std::cerr << "appliance, route for the ping: " << chosen;
    EXPECT_NE(chosen.find("dev ergwfp0 table 1000"), std::string::npos) << chosen;
    const auto rules = ip(Node::appliance, {"rule"});
    EXPECT_EQ(rules.find("lookup 220"), std::string::npos) << "charon's catch-all table is in use:\n" << rules;
    EXPECT_EQ(ip(Node::appliance, {"route", "show", "table", "220"}), "");

    ASSERT_TRUE(lab_->azure_bird()->set_vnet_announced(false));
    auto withdrawn = lab_->wait_for(
        seconds(20),
        [](const nlohmann::json& s) { return !learned(s, "10.0.0.0/16") && s["fastpath"].value("routes", 0) == 1; },
        "the appliance to drop the withdrawn VNet route (ergw status, the fast path's routes)");
    ASSERT_TRUE(withdrawn) << withdrawn.error();
    EXPECT_EQ(ip(Node::appliance, {"route", "show", "table", "1000", "10.0.0.0/16"}), "");
    const auto out_before = fastpath_packets_out();
    lab::PingOptions options;
    options.count = 3;
    auto lost = lab::ping(lab_->lab().netns(Node::onprem), vnet_host, options);
    ASSERT_TRUE(lost) << lost.error();
    EXPECT_EQ(lost->received, 0) << "the VNet answered without the learned route";
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the fast path reports once a second
    EXPECT_EQ(fastpath_packets_out(), out_before) << "packets entered the tunnel without the learned route";

    ASSERT_TRUE(lab_->azure_bird()->set_vnet_announced(true));
    auto back = lab_->wait_for(
        seconds(20),
        [](const nlohmann::json& s) { return learned(s, "10.0.0.0/16") && s["fastpath"].value("routes", 0) >= 2; },
        "the VNet route to be learned again");
    ASSERT_TRUE(back) << back.error();
    expect_traffic_through_esp();
    auto counted = lab_->wait_for(
        seconds(5),
        [&](const nlohmann::json& s) {
          const auto c = s["connections"][0];
          return c.contains("fastpath") && c["fastpath"].value("packets_out", uint64_t{0}) > out_before;
        },
        "the fast path to count the pings over the learned route again");
    EXPECT_TRUE(counted) << counted.error();
  }

  fs::path dir_;
  std::unique_ptr<AzureLab> lab_;
};

// (configuration, the appliance's data plane)
class BgpAddressTest : public BgpLabTest,
                       public ::testing::WithParamInterface<std::tuple<const char*, const char*>> {};

TEST_P(BgpAddressTest, LearnsTheVnetOverBgpAndReachesItThroughTheTunnel) {
  const std::string name = std::get<0>(GetParam());
  const bool fastpath = std::string(std::get<1>(GetParam())) == "fastpath";
  if (fastpath && !fs::exists(fs::path(ERGW_PLUGIN_DIR) / "libstrongswan-ergw-ipsec.so")) {
    GTEST_SKIP() << "the ergw-ipsec plugin was not built (run tools/strongswan-source, then build ergw-ipsec-plugin)";
  }
  const std::string device = fastpath ? "ergwfp0" : "ipsec0";
  const auto config = read_json(kExamples / (name + ".json"));
  start(kExamples / (name + ".json"), fastpath);
  expect_session();
  const auto st = status();
  std::cerr << cli::format_status(st);
  const auto& s = *session(st);
  EXPECT_EQ(s.value("hold_time", 0), 180);
  EXPECT_EQ(s.value("keepalive_time", 0), 60);
  EXPECT_EQ(s.value("neighbor_as", 0u), 65515u);
  EXPECT_GE(s.value("prefixes_out", 0u), 1u);

  // The same session in ergwd's /metrics, from what the real BIRD reports:
  // state, routes received/accepted/advertised, an uptime that grows.
  const std::string peer = "peer=\"" + s.value("protocol", "") + "\"";
  const std::string connection = "connection=\"" + st["connections"][0].value("name", "") + "\"";
  std::string text;
  // /metrics reads ergwd's published snapshot (once a second), which can be a
  // step behind the status above: wait for the session and its routes there too.
  ASSERT_TRUE(eventually(seconds(10), [&] {
    text = scrape_metrics();
    return metric(text, "ergw_bgp_session_up", {peer, connection}) == 1.0 &&
           metric(text, "ergw_bgp_routes_accepted", {peer, connection}).value_or(0) >= 1.0;
  })) << text;
  EXPECT_EQ(metric(text, "ergw_bgp_session_state", {peer, connection, "state=\"Established\""}), 1.0) << text;
  EXPECT_EQ(metric(text, "ergw_bgp_session_state", {peer, connection, "state=\"Active\""}), 0.0) << text;
  EXPECT_EQ(metric(text, "ergw_daemon_up", {"daemon=\"bird\""}), 1.0) << text;
  const auto received = metric(text, "ergw_bgp_routes_received", {peer, connection});
  const auto accepted = metric(text, "ergw_bgp_routes_accepted", {peer, connection});
  const auto advertised = metric(text, "ergw_bgp_routes_advertised", {peer, connection});
  ASSERT_TRUE(received && accepted && advertised) << text;
  EXPECT_GE(*accepted, 1.0) << "Azure's VNet prefix, 10.0.0.0/16";
  EXPECT_GE(*received, *accepted);
  EXPECT_EQ(*advertised, static_cast<double>(s.value("prefixes_out", 0u))) << text;
  const auto uptime = metric(text, "ergw_bgp_session_uptime_seconds", {peer, connection});
  ASSERT_TRUE(uptime) << text;
  std::this_thread::sleep_for(seconds(2));
  const auto later = metric(scrape_metrics(), "ergw_bgp_session_uptime_seconds", {peer, connection});
  ASSERT_TRUE(later);
  EXPECT_GT(*later, *uptime) << "the session's uptime grows while it stays Established";
  std::cerr << "metrics: ergw_bgp_session_up 1, routes received " << *received << " accepted " << *accepted
            << " advertised " << *advertised << ", uptime " << *uptime << " s then " << *later << " s\n";

  // The appliance: learned route in ergw's table, nothing static for the VNet.
  EXPECT_NE(ip(Node::appliance, {"route", "show", "table", "1000"}).find("10.0.0.0/16 dev " + device + " proto bird"),
            std::string::npos);
  EXPECT_EQ(st["data_plane"].value("kind", ""), fastpath ? "fastpath" : "libipsec");
  // Main holds only the host route to Azure's BGP address (static, never from BGP).
  const auto main_table = ip(Node::appliance, {"route", "show"});
  EXPECT_EQ(main_table.find("10.0.0.0/16"), std::string::npos) << main_table;
  EXPECT_EQ(main_table.find("10.0.2."), std::string::npos) << main_table;
  const auto azure_bgp = conn0(const_cast<nlohmann::json&>(config))["azureGateway"]["bgpSettings"].value(
      "bgpPeeringAddress", "");
  std::vector<std::string> static_routes;
  for (const auto& r : st["connections"][0]["routes"]) static_routes.push_back(r.value("prefix", ""));
  ASSERT_EQ(static_routes.size(), 1u) << "ergwd routes only Azure's BGP address statically";
  EXPECT_TRUE(static_routes[0].ends_with("/32"));
  const auto rules = ip(Node::appliance, {"rule"});
  EXPECT_NE(rules.find("1000:\tfrom all to 172.16.0.2 lookup main"), std::string::npos) << rules;
  EXPECT_NE(rules.find("1001:\tfrom all lookup 1000"), std::string::npos) << rules;
  const std::string local_bgp = conn0(const_cast<nlohmann::json&>(config))["local"].value("bgpPeeringAddress", "");
  EXPECT_NE(ip(Node::appliance, {"address", "show", "dev", "lo"}).find(local_bgp + "/32"), std::string::npos);

  // The Azure side learned the on-prem prefix into its kernel.
  EXPECT_TRUE(eventually(seconds(10), [&] { return azure_learned_onprem(); }));
  EXPECT_NE(ip(Node::azure_gw, {"route", "show", "192.168.10.0/24"}).find("proto bird"), std::string::npos);

  remove_charon_catch_all_routes();
  if (fastpath) {
    // The fast path picks the BGP connection's SAs for the learned prefixes
    // by the routes ergwd hands it from BIRD (prefix -> the connection's
    // if_id); there is no default route, so traffic flows only through them.
    EXPECT_TRUE(lab_->wait_for(
        seconds(10), [](const nlohmann::json& now) { return now["fastpath"].value("routes", 0) >= 2; },
        "the learned prefix in the fast path's routes"));
  }
  expect_traffic_through_esp();
  if (fastpath) {
    EXPECT_TRUE(lab_->wait_for(
        seconds(5), [](const nlohmann::json& now) { return now["connections"][0].contains("fastpath") &&
                                                         now["connections"][0]["fastpath"].value("packets_out", 0) > 0; },
        "the fast path's counters for the BGP connection"));
    EXPECT_GE(status()["fastpath"].value("routes", 0), 2) << "the BGP host route and the learned VNet prefix";
    expect_ping_follows_the_learned_route();
  }
  (void)azure_bgp;
}

INSTANTIATE_TEST_SUITE_P(LabBgp, BgpAddressTest,
                         ::testing::Values(std::make_tuple("lab-bgp", "libipsec"),
                                           std::make_tuple("lab-bgp-apipa", "libipsec"),
                                           std::make_tuple("lab-bgp", "fastpath")),
                         [](const auto& param_info) {
                           std::string name = std::string(std::get<0>(param_info.param)) + "_" +
                                              std::get<1>(param_info.param);
                           for (auto& c : name) c = (c == '-') ? '_' : c;
                           return name;
                         });

TEST_F(BgpLabTest, TunnelDownWithdrawsOnBothSidesAndTunnelBackRestores) {
  auto config = read_json(kExamples / "lab-bgp.json");
  // Fast dead-peer detection: the tunnel is declared down within ~10 s.
  conn0(config)["azure"]["properties"]["dpdTimeoutSeconds"] = 9;
  start(write("down", config));
  expect_session();
  ASSERT_TRUE(eventually(seconds(10), [&] { return azure_learned_onprem(); }));

  // The underlay breaks: both sides' DPD takes the tunnel down.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(lab_->lab().exec(Node::azure_gw, {"ip", "link", "set", "wan0", "down"}).ok());
  auto withdrawn = lab_->wait_for(
      seconds(180),
      [](const nlohmann::json& s) { return !learned(s, "10.0.0.0/16") && s["connections"][0].value("state", "") != "UP"; },
      "the appliance to withdraw the VNet route");
  ASSERT_TRUE(withdrawn) << withdrawn.error();
  const auto appliance_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ip(Node::appliance, {"route", "show", "table", "1000"}).find("10.0.0.0/16"), std::string::npos);
  EXPECT_TRUE(eventually(seconds(180), [&] {
    return !azure_learned_onprem() && ip(Node::azure_gw, {"route", "show", "192.168.10.0/24"}).empty();
  })) << "the Azure side kept the on-prem route";
  const auto azure_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "tunnel down: appliance withdrew after " << appliance_s << " s, Azure side after " << azure_s
            << " s (hold time 180 s)\n"
            << cli::format_status(status());
  const auto down_status = status();
  const auto* s = session(down_status);
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->value("state", ""), "Established");

  // The underlay is back: tunnel, session and routes return.
  ASSERT_TRUE(lab_->lab().exec(Node::azure_gw, {"ip", "link", "set", "wan0", "up"}).ok());
  const auto t1 = std::chrono::steady_clock::now();
  expect_session(seconds(120));
  EXPECT_TRUE(eventually(seconds(30), [&] { return azure_learned_onprem(); }));
  std::cerr << "tunnel back: session and routes back after "
            << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t1).count()
            << " s\n";
  // Both sides re-dial at once (connectionMode Default): the appliance may
  // now hold two IKE SAs, and packets may enter by one and leave by the other.
  std::cerr << "established IKE SAs: " << status()["connections"][0].value("ike_sas", 0) << "\n";
  remove_charon_catch_all_routes();
  expect_traffic_through_esp();
}

TEST_F(BgpLabTest, KilledBirdIsRestartedAndTheSessionReestablished) {
  start(kExamples / "lab-bgp.json");
  expect_session();
  const auto pid = status()["bgp"]["bird"].value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto back = lab_->wait_for(
      seconds(120),
      [pid](const nlohmann::json& s) {
        return s["bgp"]["bird"].value("restarts", 0) >= 1 && s["bgp"]["bird"].value("pid", 0) != pid &&
               established_and_learned(s);
      },
      "a new BIRD with the session re-established");
  ASSERT_TRUE(back) << back.error();
  std::cerr << "BIRD killed: restarted and re-established in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
            << " ms\n";
  EXPECT_TRUE(eventually(seconds(30), [&] { return azure_learned_onprem(); }));
  remove_charon_catch_all_routes();
  expect_traffic_through_esp();
}

TEST_F(BgpLabTest, ConfigureAddsASessionWithoutFlappingTheRunningOne) {
  auto config = read_json(kExamples / "lab-bgp.json");
  const auto file = write("change", config);
  start(file);
  expect_session();
  auto before = status();
  const auto since = (*session(before)).value("since", "");
  const auto pid = before["bgp"]["bird"].value("pid", 0);
  auto azure_before = lab_->azure_bird()->session();
  ASSERT_TRUE(azure_before) << azure_before.error();
  std::this_thread::sleep_for(seconds(2));  // a flap would show in `since` (1 s resolution)

  // A second connection with its own BGP peer (its Azure gateway does not
  // exist in the lab: its session stays down).
  auto second = conn0(config);
  second["name"] = "azure-second";
  second["azure"]["name"] = "second-vpn";
  second["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.6"};
  second["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.9.1.30";
  second["azureGateway"]["vnetPrefixes"] = {"10.9.0.0/16"};
  second["local"]["bgpPeeringAddress"] = "192.168.255.2";
  config["connections"].push_back(second);
  std::ofstream(file) << config.dump(2);
  ASSERT_TRUE(lab_->reload_ergwd());
  auto two = lab_->wait_for(
      seconds(20), [](const nlohmann::json& s) { return s["bgp"]["sessions"].size() == 2; }, "two BGP sessions");
  ASSERT_TRUE(two) << two.error();
  std::this_thread::sleep_for(seconds(2));
  auto after = status();
  std::cerr << cli::format_status(after);
  EXPECT_EQ(after["bgp"]["bird"].value("pid", 0), pid) << "BIRD was restarted instead of reconfigured";
  EXPECT_EQ(after["bgp"]["sessions"][0].value("since", ""), since) << "the running session flapped";
  EXPECT_EQ(after["bgp"]["sessions"][0].value("state", ""), "Established");
  EXPECT_NE(after["bgp"]["sessions"][1].value("state", ""), "Established");
  auto azure_after = lab_->azure_bird()->session();
  ASSERT_TRUE(azure_after) << azure_after.error();
  EXPECT_EQ(azure_after->since, azure_before->since) << "Azure saw the session flap";
  EXPECT_TRUE(learned(after, "10.0.0.0/16"));

  // And removed again: the first session still untouched.
  config["connections"].erase(1);
  std::ofstream(file) << config.dump(2);
  ASSERT_TRUE(lab_->reload_ergwd());
  auto one = lab_->wait_for(
      seconds(20), [](const nlohmann::json& s) { return s["bgp"]["sessions"].size() == 1; }, "one BGP session");
  ASSERT_TRUE(one) << one.error();
  auto last = status();
  EXPECT_EQ(last["bgp"]["sessions"][0].value("since", ""), since);
  EXPECT_EQ(last["bgp"]["bird"].value("pid", 0), pid);
}

TEST_F(BgpLabTest, RefusedReloadsChangeNothingAndExpressRouteOverlapWarns) {
  auto config = read_json(kExamples / "lab-bgp.json");
  const auto file = write("refused", config);
  start(file);
  expect_session();
  const auto log_file = lab_->lab().state_dir() / "ergwd.log";
  const auto bird_conf = fs::path(status()["bgp"]["bird"].value("config", ""));
  const auto conf_before = read_text(bird_conf);
  const auto since = (*session(status())).value("since", "");
  const auto pid = status()["bgp"]["bird"].value("pid", 0);

  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> edit;
    const char* expected;  // in ergwd's log
  };
  const std::vector<Case> cases = {
      {"reserved local ASN", [](nlohmann::json& c) { conn0(c)["local"]["asn"] = 65515; }, "is reserved by Azure"},
      {"equal ASNs", [](nlohmann::json& c) { conn0(c)["azureGateway"]["bgpSettings"]["asn"] = 65010; },
       "equals the Azure gateway's ASN"},
      {"APIPA outside Azure's range",
       [](nlohmann::json& c) {
         conn0(c)["azure"]["properties"]["gatewayCustomBgpIpAddresses"] = {
             {{"ipConfigurationId", "ipconfig1"}, {"customBgpIpAddress", "169.254.30.1"}}};
       },
       "outside Azure's APIPA range"},
      {"4,001 exported prefixes",
       [](nlohmann::json& c) {
         auto& prefixes = conn0(c)["local"]["prefixes"];
         for (int i = 0; i < 4000; ++i) {
           prefixes.push_back("172." + std::to_string(20 + i / 256) + "." + std::to_string(i % 256) + ".0/24");
         }
       },
       "4000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto log_before = read_text(log_file).size();
    auto bad = config;
    c.edit(bad);
    std::ofstream(file) << bad.dump(2);
    EXPECT_FALSE(lab_->reload_ergwd()) << c.what << " was accepted";
    EXPECT_TRUE(eventually(seconds(5), [&] {
      return read_text(log_file).substr(log_before).find("stays as it was") != std::string::npos;
    }));
    const auto log = read_text(log_file).substr(log_before);
    EXPECT_NE(log.find(c.expected), std::string::npos) << "ergwd's log:\n" << log;
    EXPECT_NE(log.find("stays as it was"), std::string::npos) << log;
    std::cerr << c.what << ": refused; ergwd said:\n" << log;
  }
  auto after = status();
  EXPECT_EQ(read_text(bird_conf), conf_before) << "a refused configuration reached BIRD's config file";
  EXPECT_EQ((*session(after)).value("since", ""), since);
  EXPECT_EQ(after["bgp"]["bird"].value("pid", 0), pid);
  EXPECT_TRUE(established_and_learned(after));

  // ExpressRoute: the same prefix warns; a less specific ER prefix (the VPN's
  // is more specific, the fix) is quiet. Both are accepted.
  const auto count_warnings = [&] {
    std::ifstream in(log_file);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      n += line.find("warning") != std::string::npos && line.find("ExpressRoute") != std::string::npos;
    }
    return n;
  };
  auto overlap = config;
  conn0(overlap)["local"]["expressRoutePrefixes"] = {"192.168.10.0/24"};
  std::ofstream(file) << overlap.dump(2);
  auto n0 = count_warnings();
  ASSERT_TRUE(lab_->reload_ergwd());
  // ergwd's output reaches its log through the supervisor's pipe: let it land.
  EXPECT_TRUE(eventually(seconds(5), [&] { return count_warnings() > n0; }))
      << "no ExpressRoute warning for an equal prefix";
  std::this_thread::sleep_for(seconds(1));
  auto specific = config;
  conn0(specific)["local"]["expressRoutePrefixes"] = {"192.168.0.0/16"};
  std::ofstream(file) << specific.dump(2);
  auto n1 = count_warnings();
  ASSERT_TRUE(lab_->reload_ergwd());
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(count_warnings(), n1) << "an ExpressRoute warning for a more-specific VPN prefix";
  EXPECT_EQ((*session(status())).value("since", ""), since);
}

TEST_F(BgpLabTest, IkeToAzureStaysOnTheUnderlayWhenALearnedPrefixCoversIt) {
  // S2S over ExpressRoute private peering: Azure's tunnel address is a VNet
  // address, so Azure announces a prefix that covers it.
  auto config = read_json(kExamples / "lab-bgp.json");
  conn0(config)["azureGateway"]["vnetPrefixes"] = {"10.0.0.0/16", "172.16.0.0/16"};
  start(write("covering", config));
  expect_session();
  ASSERT_TRUE(lab_->wait_for(
      seconds(30), [](const nlohmann::json& s) { return learned(s, "172.16.0.0/16"); }, "172.16.0.0/16 learned"));
  const auto route = ip(Node::appliance, {"route", "get", "172.16.0.2"});
  EXPECT_NE(route.find("dev wan0"), std::string::npos) << "IKE/ESP to Azure would enter the tunnel: " << route;
  const auto other = ip(Node::appliance, {"route", "get", "172.16.5.5"});
  EXPECT_NE(other.find("dev ipsec0"), std::string::npos) << other;
  // The tunnel keeps working over the underlay (ESP counters move).
  remove_charon_catch_all_routes();
  expect_traffic_through_esp();
  EXPECT_EQ(status()["connections"][0].value("state", ""), "UP");
}

// SIGSTOP takes a daemon away without closing anything: its sockets accept
// and then nothing answers. ergwd's status must still answer at once, say
// which daemon is silent, and go on handling charon's events meanwhile.
class StoppedDaemon {
 public:
  explicit StoppedDaemon(pid_t pid) : pid_(pid) { stopped_ = pid_ > 0 && ::kill(pid_, SIGSTOP) == 0; }
  ~StoppedDaemon() { resume(); }  // every exit path lets it run again
  StoppedDaemon(const StoppedDaemon&) = delete;
  StoppedDaemon& operator=(const StoppedDaemon&) = delete;
  bool stopped() const { return stopped_; }
  void resume() {
    if (stopped_) ::kill(pid_, SIGCONT);
    stopped_ = false;
  }

 private:
  pid_t pid_;
  bool stopped_ = false;
};

bool names_daemon(const nlohmann::json& status, const std::string& daemon) {
  for (const auto& d : status.value("not_answering", nlohmann::json::array())) {
    if (d.value("daemon", "") == daemon) return true;
  }
  return false;
}

TEST_F(BgpLabTest, StatusAnswersWhileBirdOrCharonIsStoppedAndEventsFlowWhenItIsBack) {
  start(kExamples / "lab-bgp.json");
  expect_session();
  const auto log_file = lab_->lab().state_dir() / "ergwd.log";
  // `ergw status` from the outside, timed.
  auto timed_status = [&](const char* when) {
    const auto t0 = std::chrono::steady_clock::now();
    auto reply = lab_->status();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "ergw status " << when << ": answered in " << ms << " ms\n";
    EXPECT_TRUE(reply) << reply.error();
    // ergwd waits 1 s for a daemon; anything near BIRD's or vici's own
    // command timeouts (5 s, 30 s) would mean the status waited on a daemon.
    EXPECT_LT(ms, 4000) << "the status waited for a stopped daemon";
    return reply ? reply.value() : nlohmann::json::object();
  };
  // Waits for an ergwd log line containing `text`, written after `offset`.
  auto logged_after = [&](size_t offset, const std::string& text) {
    return eventually(seconds(60), [&] { return read_text(log_file).substr(offset).find(text) != std::string::npos; });
  };
  const std::string down_line = lab_->connection_name() + ": IKE down";

  // 1. BIRD stopped for 10 s.
  {
    const auto bird_pid = status()["bgp"]["bird"].value("pid", 0);
    StoppedDaemon bird(bird_pid);
    ASSERT_TRUE(bird.stopped()) << "cannot stop BIRD (pid " << bird_pid << ")";
    const auto stopped_at = std::chrono::steady_clock::now();
    auto st = timed_status("with BIRD stopped");
    EXPECT_TRUE(names_daemon(st, "BIRD")) << st.dump(2);
    EXPECT_FALSE(st["bgp"]["bird"].value("answering", true));
    EXPECT_EQ(st.value("charon", ""), "connected");
    std::cerr << cli::format_status(st);
    // charon's events are still handled: Azure drops the IKE SA, ergwd sees it go
    // down and (connectionMode Default) dials again, all while BIRD is stopped.
    const auto offset = read_text(log_file).size();
    ASSERT_TRUE(lab_->azure_charon().terminate_ike(lab_->connection_name()).ok());
    EXPECT_TRUE(logged_after(offset, down_line)) << "ergwd did not handle ike-updown while BIRD was stopped";
    auto up_again = lab_->wait_until_up(seconds(60));
    EXPECT_TRUE(up_again) << up_again.error();
    timed_status("with BIRD still stopped");
    std::this_thread::sleep_until(stopped_at + seconds(10));
    bird.resume();
  }
  auto bird_back = lab_->wait_for(
      seconds(30),
      [](const nlohmann::json& s) { return !names_daemon(s, "BIRD") && s["bgp"]["bird"].value("answering", false); },
      "BIRD to answer again");
  ASSERT_TRUE(bird_back) << bird_back.error();
  EXPECT_EQ(status()["bgp"]["bird"].value("restarts", -1), 0) << "a stopped BIRD is no reason to restart it";
  expect_session(seconds(180));

  // 2. charon stopped for 10 s.
  {
    const auto charon_pid = lab_->appliance_charon().pid();
    ASSERT_TRUE(charon_pid);
    StoppedDaemon charon(*charon_pid);
    ASSERT_TRUE(charon.stopped());
    const auto stopped_at = std::chrono::steady_clock::now();
    auto st = timed_status("with charon stopped");
    EXPECT_TRUE(names_daemon(st, "charon")) << st.dump(2);
    EXPECT_NE(st.value("charon_error", "").find("not answering"), std::string::npos) << st.dump(2);
    // BIRD still answers, and the tunnel is shown as charon last reported it.
    EXPECT_TRUE(st["bgp"]["bird"].value("answering", false)) << st.dump(2);
    EXPECT_EQ(st["connections"][0].value("state", ""), "UP") << st.dump(2);
    std::cerr << cli::format_status(st);
    std::this_thread::sleep_until(stopped_at + seconds(5));
    timed_status("with charon stopped 5 s");
    std::this_thread::sleep_until(stopped_at + seconds(10));
    charon.resume();
  }
  auto charon_back = lab_->wait_for(
      seconds(30), [](const nlohmann::json& s) { return s.value("not_answering", nlohmann::json::array()).empty(); },
      "charon to answer again");
  ASSERT_TRUE(charon_back) << charon_back.error();
  // The same vici connection carries events again: Azure drops the IKE SA,
  // ergwd hears of it.
  const auto offset = read_text(log_file).size();
  ASSERT_TRUE(lab_->azure_charon().terminate_ike(lab_->connection_name()).ok());
  EXPECT_TRUE(logged_after(offset, down_line)) << "no vici event reached ergwd after charon was back";
  EXPECT_EQ(read_text(log_file).find("lost charon"), std::string::npos) << "the vici connection was dropped";
  auto up = lab_->wait_until_up(seconds(60));
  ASSERT_TRUE(up) << up.error();
  expect_session(seconds(180));
  remove_charon_catch_all_routes();
  expect_traffic_through_esp();
}

}  // namespace
}  // namespace ergw::azure_lab
