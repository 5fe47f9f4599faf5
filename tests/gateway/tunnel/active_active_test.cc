// An active-active Azure VPN gateway in the lab: two instances, each in a
// namespace of its own (azure-gw and azure-gw-2) with its own tunnel address,
// charon (own /run and vici socket) and, with BGP, its own BIRD and BGP
// address, configured by the lab's own model of Azure (never by ergw's
// compiler). The appliance runs ergwd on the fast path, the only data plane
// here that spreads flows over two route-based tunnels (libipsec picks an SA
// by its selectors, docs/active-active.md).
//
// What an engineer checks: both tunnels up, traffic over both (ECMP) or over
// the preferred instance; an instance that dies (its charon SIGKILLed, then its
// link cut) costs at most what DPD allows, the other instance carries the
// traffic and the status says so; the instance back, the traffic returns to
// it. With BGP: a session per instance, the VNet learned from both, one
// instance's routes withdrawn when it goes and learned again when it returns.
// Lost pings are counted at a fixed rate and printed; the only timed
// assertion is the loss bound DPD documents, with room for a loaded machine.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/cli/status_command.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/lab_config_file.h"
#include "lab/azure/pfs_probe_settled.h"
#include "lab/traffic.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using lab::Node;

const fs::path kExamples = fs::path(ERGW_SOURCE_DIR) / "examples";

// Azure's dpdTimeoutSeconds for both sides (Azure allows 9 to 3,600; the
// appliance probes every third of it and gives up within it).
constexpr int kDpdTimeoutSeconds = 10;
// The ping's rate while an instance fails: 10 a second.
constexpr milliseconds kPingInterval{100};
// What a failover may cost beyond the DPD timeout: the lab's watcher, which
// moves the VNet's return route off a dead instance, looks every 3 s, and
// ergwd's reaction, the fast path's one-second report and a loaded machine
// (2 cores shared by several builds) add a few seconds more.
constexpr int kFailoverSlackSeconds = 6;

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

// The example's connection as an active-active gateway: instance 0 on the
// lab's 172.16.0.2, instance 1 on azure-gw-2's 172.16.0.6.
nlohmann::json active_active(nlohmann::json config) {
  auto& c = config["connections"][0];
  c["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.6"};
  c["azureGateway"]["activeActive"] = true;
  c["azure"]["properties"]["dpdTimeoutSeconds"] = kDpdTimeoutSeconds;
  return config;
}

bool fastpath_built() { return fs::exists(fs::path(ERGW_PLUGIN_DIR) / "libstrongswan-ergw-ipsec.so"); }

class ActiveActiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
    if (!fastpath_built()) {
      GTEST_SKIP() << "the ergw-ipsec plugin was not built (run tools/strongswan-source, then build "
                      "ergw-ipsec-plugin): active-active runs the appliance on the fast path, the data plane "
                      "here that spreads flows over both tunnels";
    }
    dir_ = fs::path(::testing::TempDir()) / ("ergw-aa-" + std::to_string(getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      const auto dir = lab_->lab().state_dir();
      std::cerr << "---- tail of ergwd.log\n" << lab_->lab().exec(Node::appliance, {"tail", "-n", "80",
                                                                                   (dir / "ergwd.log").string()}).out;
      auto s = lab_->status();
      if (s) std::cerr << cli::format_status(s.value());
    }
    lab_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, const nlohmann::json& config) {
    return azure_lab::write_lab_config(dir_, name, config);
  }

  void start(const fs::path& config) {
    AzureLabOptions options;
    options.config_file = config;
    options.ergwd_path = ERGWD_PATH;
    options.appliance_backend = lab::CharonBackend::ergw_ipsec;
    options.fastpath_path = ERGW_FASTPATH_PATH;
    options.ergw_ipsec_plugin_dir = ERGW_PLUGIN_DIR;
    options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
    auto created = AzureLab::create(options);
    ASSERT_TRUE(created) << created.error();
    lab_ = std::move(created.value());
    ASSERT_EQ(lab_->azure_instances(), 2u);
    ASSERT_NE(lab_->lab().charon(Node::azure_gw2), nullptr);
    EXPECT_NE(lab_->azure_charon(0).vici_socket(), lab_->azure_charon(1).vici_socket());
    std::cerr << "data plane: the appliance on the fast path (ergw-fastpath, ESP in userspace); each Azure "
                 "instance on strongSwan's kernel-libipsec\n";
  }

  nlohmann::json status() {
    auto s = lab_->status();
    EXPECT_TRUE(s) << s.error();
    return s ? s.value() : nlohmann::json::object();
  }

  // The appliance's connection to instance `i` (`<name>-i<i>`).
  static const nlohmann::json* instance(const nlohmann::json& status, int i) {
    // A pointer into `status` itself (value() would return a copy).
    const auto connections = status.find("connections");
    if (connections == status.end()) return nullptr;
    for (const auto& c : *connections) {
      if (c.value("name", "").ends_with("-i" + std::to_string(i))) return &c;
    }
    return nullptr;
  }
  static bool up(const nlohmann::json& status, int i) {
    const auto* c = instance(status, i);
    return c != nullptr && c->value("state", "") == "UP";
  }
  // Instance i's tunnel carries the VNet prefix now (ergw status).
  static bool carrying(const nlohmann::json& status, int i, const std::string& prefix) {
    const auto* c = instance(status, i);
    if (c == nullptr) return false;
    for (const auto& r : c->value("routes", nlohmann::json::array())) {
      if (r.value("prefix", "") == prefix) return r.value("carrying", false);
    }
    return false;
  }
  static uint64_t packets_out(const nlohmann::json& status, int i) {
    const auto* c = instance(status, i);
    return c != nullptr && c->contains("fastpath") ? (*c)["fastpath"].value("packets_out", uint64_t{0}) : 0;
  }
  static uint64_t packets_in(const nlohmann::json& status, int i) {
    const auto* c = instance(status, i);
    return c != nullptr && c->contains("fastpath") ? (*c)["fastpath"].value("packets_in", uint64_t{0}) : 0;
  }

  // The fast path reports its counters once a second.
  nlohmann::json status_after_report() {
    std::this_thread::sleep_for(milliseconds(1200));
    return status();
  }

  void wait(seconds timeout, const std::function<bool(const nlohmann::json&)>& predicate, const std::string& what) {
    auto s = lab_->wait_for(timeout, predicate, what);
    ASSERT_TRUE(s) << s.error();
  }

  // ergwd's PFS probe rekeys a new IKE SA's CHILD SA about a second after it
  // is up, and the old SA's counters go with it: counters are compared only
  // once every instance's probe has settled.
  void wait_for_pfs_probes() {
    wait(seconds(60),
         [](const nlohmann::json& st) {
           for (const auto& c : st.value("connections", nlohmann::json::array())) {
             if (!pfs_probe_settled(c)) return false;
           }
           return true;
         },
         "ergwd's PFS probe of both instances' tunnels to conclude");
  }

  // Which tunnels carry the VNet now, as the status says it (the text an
  // operator reads, and the JSON).
  void print_carriers(const std::string& when, const std::string& prefix) {
    const auto s = status();
    std::cerr << "[" << when << "] " << prefix << ": instance 0 " << (up(s, 0) ? "UP" : "down") << ", "
              << (carrying(s, 0, prefix) ? "carrying" : "standby") << "; instance 1 " << (up(s, 1) ? "UP" : "down")
              << ", " << (carrying(s, 1, prefix) ? "carrying" : "standby") << "; vnet-host returns through instance(s)";
    for (const size_t i : lab_->vnet_return_instances()) std::cerr << " " << i;
    std::cerr << "\n";
  }

  std::unique_ptr<lab::ContinuousPing> start_ping(const std::string& name) {
    auto ping = std::make_unique<lab::ContinuousPing>(lab_->lab().netns(Node::onprem), lab_->lab().address(Node::vnet),
                                                      dir_ / (name + ".ping"), kPingInterval);
    auto started = ping->start();
    EXPECT_TRUE(started) << started.error();
    return ping;
  }

  // Stops the ping, prints its loss and checks it against what DPD allows.
  void expect_loss_within_dpd(std::unique_ptr<lab::ContinuousPing> ping, const std::string& what) {
    auto report = ping->stop();
    ASSERT_TRUE(report) << report.error();
    const double lost_seconds = report->lost * std::chrono::duration<double>(kPingInterval).count();
    std::cerr << "MEASURED " << what << ": " << report->lost << " of " << report->transmitted
              << " pings lost at " << kPingInterval.count() << " ms intervals (" << lost_seconds
              << " s without replies; DPD timeout " << kDpdTimeoutSeconds << " s)\n";
    EXPECT_GT(report->received, 0);
    EXPECT_LE(lost_seconds, kDpdTimeoutSeconds + kFailoverSlackSeconds)
        << what << ": the outage is longer than DPD allows";
  }

  // Instance `dead` failed: the other one must carry the traffic (its
  // counters move both ways), the dead one none, and the status say so. Both
  // sides must have failed over first: the appliance (ergw status) and the
  // VNet's way back, which follows the Azure instances' own view of their
  // tunnels (the lab's watcher): an instance whose link is cut keeps its SA
  // until its own DPD gives up, and the VNet answers through it until then.
  void expect_carried_by(int alive, int dead, const std::string& prefix) {
    const std::set<size_t> only_alive = {static_cast<size_t>(alive)};
    wait(seconds(kDpdTimeoutSeconds + kFailoverSlackSeconds),
         [&](const nlohmann::json& s) {
           return !up(s, dead) && carrying(s, alive, prefix) && !carrying(s, dead, prefix) &&
                  lab_->vnet_return_instances() == only_alive;
         },
         "instance " + std::to_string(dead) + "'s tunnel down, instance " + std::to_string(alive) + " carrying " +
             prefix + " and the VNet returning through it only");
    const auto before = status_after_report();
    lab::PingOptions options;
    options.count = 5;
    options.interval = milliseconds(200);
    auto ping = lab::ping(lab_->lab().netns(Node::onprem), lab_->lab().address(Node::vnet), options);
    ASSERT_TRUE(ping) << ping.error();
    EXPECT_EQ(ping->received, 5) << "the surviving instance does not carry the traffic";
    const auto after = status_after_report();
    EXPECT_GE(packets_out(after, alive), packets_out(before, alive) + 5);
    EXPECT_GE(packets_in(after, alive), packets_in(before, alive) + 5);
    EXPECT_EQ(packets_out(after, dead), packets_out(before, dead)) << "packets went into the dead instance's tunnel";
    const auto text = cli::format_status(after);
    EXPECT_NE(text.find("standby: another tunnel carries it"), std::string::npos) << text;
  }

  // Instance 0 (the preferred one) fails by `fail`, then returns by
  // `restore`, each under a ping at a fixed rate whose loss is printed.
  void fail_and_return_instance_0(const std::string& name, const std::string& what, const std::string& vnet,
                                  const std::function<Status()>& fail, const std::function<Status()>& restore) {
    {
      auto ping = start_ping(name);
      std::this_thread::sleep_for(seconds(2));
      const auto failed_at = std::chrono::steady_clock::now();
      ASSERT_TRUE(fail());
      wait(seconds(kDpdTimeoutSeconds + kFailoverSlackSeconds), [&](const nlohmann::json& st) { return !up(st, 0); },
           "instance 0's tunnel down (" + what + ")");
      std::cerr << "MEASURED " << what << ": ergwd reports instance 0's tunnel down after "
                << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - failed_at).count()
                << " ms\n";
      expect_carried_by(1, 0, vnet);
      print_carriers(what, vnet);
      expect_loss_within_dpd(std::move(ping), what);
    }
    auto ping = start_ping(name + "-back");
    std::this_thread::sleep_for(seconds(1));
    ASSERT_TRUE(restore());
    wait(seconds(60),
         [&](const nlohmann::json& st) { return up(st, 0) && carrying(st, 0, vnet) && !carrying(st, 1, vnet); },
         "instance 0 back and carrying (" + what + ")");
    std::this_thread::sleep_for(seconds(4));  // the watcher routes the VNet's return through it again
    wait_for_pfs_probes();
    const auto before = status_after_report();
    std::this_thread::sleep_for(seconds(1));
    const auto after = status_after_report();
    EXPECT_GT(packets_out(after, 0), packets_out(before, 0)) << "the traffic did not return to instance 0";
    EXPECT_EQ(packets_out(after, 1), packets_out(before, 1));
    print_carriers(what + ", instance 0 back", vnet);
    expect_loss_within_dpd(std::move(ping), what + ", instance 0 back");
  }

  fs::path dir_;
  std::unique_ptr<AzureLab> lab_;
};

TEST_F(ActiveActiveTest, WithoutBgpTrafficFollowsTheTunnelsThroughInstanceFailures) {
  const std::string vnet = "10.0.2.0/24";
  auto config = active_active(read_json(kExamples / "lab.json"));
  config["connections"][0]["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.0.255.30,10.0.255.31";
  start(write("ecmp", config));
  auto s = lab_->wait_until_up(seconds(90));
  ASSERT_TRUE(s) << s.error();
  wait_for_pfs_probes();
  const auto first = status();
  std::cerr << cli::format_status(first);
  ASSERT_EQ(first["data_plane"].value("kind", ""), "fastpath");
  ASSERT_TRUE(up(first, 0) && up(first, 1)) << "both instances' tunnels";
  EXPECT_NE((*instance(first, 0))["if_id"], (*instance(first, 1))["if_id"]);
  // Each Azure instance has its own IKE SA with the appliance, on its own address.
  for (size_t i = 0; i < 2; ++i) {
    auto sas = lab_->azure_charon(i).list_sas();
    ASSERT_TRUE(sas) << sas.error();
    EXPECT_NE(sas->find(i == 0 ? "172.16.0.2" : "172.16.0.6"), std::string::npos) << *sas;
    EXPECT_NE(sas->find("ESTABLISHED"), std::string::npos) << *sas;
  }

  // ECMP (the default): both tunnels carry the VNet, and flows are spread by
  // their hash: 16 TCP streams leave through both.
  EXPECT_TRUE(carrying(first, 0, vnet) && carrying(first, 1, vnet));
  {
    const auto before = status_after_report();
    lab::IperfOptions options;
    options.duration = seconds(2);
    options.parallel = 16;
    auto iperf = lab::iperf3(lab_->lab().netns(Node::vnet), lab_->lab().address(Node::vnet),
                             lab_->lab().netns(Node::onprem), dir_, options);
    ASSERT_TRUE(iperf) << iperf.error();
    const auto after = status_after_report();
    const auto out0 = packets_out(after, 0) - packets_out(before, 0);
    const auto out1 = packets_out(after, 1) - packets_out(before, 1);
    std::cerr << "MEASURED ECMP: 16 TCP streams, " << iperf->sent_bits_per_second / 1e6 << " Mbit/s; packets out through "
              << "instance 0: " << out0 << ", instance 1: " << out1 << "\n";
    EXPECT_GT(out0, 100u) << "ECMP left instance 0's tunnel unused";
    EXPECT_GT(out1, 100u) << "ECMP left instance 1's tunnel unused";
  }
  print_carriers("ECMP", vnet);

  // preferredInstance 0: only instance 0's tunnel carries, instance 1 stands by.
  config["connections"][0]["preferredInstance"] = 0;
  write("ecmp", config);  // the lab's file: reload_ergwd hands it to ergwd
  ASSERT_TRUE(lab_->reload_ergwd());
  wait(seconds(20), [&](const nlohmann::json& st) { return carrying(st, 0, vnet) && !carrying(st, 1, vnet); },
       "instance 0 preferred, instance 1 standing by");
  {
    const auto before = status_after_report();
    lab::PingOptions options;
    options.count = 10;
    options.interval = milliseconds(100);
    auto ping = lab::ping(lab_->lab().netns(Node::onprem), lab_->lab().address(Node::vnet), options);
    ASSERT_TRUE(ping) << ping.error();
    EXPECT_EQ(ping->received, 10);
    const auto after = status_after_report();
    EXPECT_GE(packets_out(after, 0), packets_out(before, 0) + 10);
    EXPECT_EQ(packets_out(after, 1), packets_out(before, 1)) << "the standby instance carried traffic";
    std::cerr << cli::format_status(after);
  }
  print_carriers("preferredInstance 0", vnet);

  // Instance 0 dies (its charon SIGKILLed, nothing said to the appliance):
  // the appliance notices by DPD and moves the traffic to instance 1. Then
  // it returns: Azure dials again, and the preferred instance takes the
  // traffic back, the new route added before the old one goes.
  fail_and_return_instance_0(
      "charon-killed", "instance 0's charon killed", vnet, [&] { return lab_->stop_azure_instance(0); },
      [&] { return lab_->start_azure_instance(0); });
  ASSERT_FALSE(HasFatalFailure());
  // Instance 0's link cut (its WAN veth down): its charon lives, but nothing
  // reaches it; DPD again.
  fail_and_return_instance_0(
      "link-cut", "instance 0's link cut", vnet, [&] { return lab_->set_azure_instance_link(0, false); },
      [&] { return lab_->set_azure_instance_link(0, true); });
}

// Both BGP sessions, one per instance, each from the instance's own address.
bool both_sessions_established(const nlohmann::json& status) {
  if (!status.contains("bgp")) return false;
  const auto sessions = status["bgp"].value("sessions", nlohmann::json::array());
  if (sessions.size() != 2) return false;
  for (const auto& s : sessions) {
    if (s.value("state", "") != "Established") return false;
  }
  return true;
}

// The connections (instances) a prefix was learned from.
std::set<std::string> learned_from(const nlohmann::json& status, const std::string& prefix) {
  std::set<std::string> out;
  if (!status.contains("bgp")) return out;
  for (const auto& r : status["bgp"].value("routes", nlohmann::json::array())) {
    if (r.value("prefix", "") == prefix) out.insert(r.value("connection", ""));
  }
  return out;
}

TEST_F(ActiveActiveTest, WithBgpASessionPerInstanceAndFailover) {
  const std::string vnet = "10.0.0.0/16";
  auto config = active_active(read_json(kExamples / "lab-bgp.json"));
  config["connections"][0]["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.0.1.30,10.0.1.31";
  start(write("bgp", config));
  ASSERT_NE(lab_->azure_bird(0), nullptr);
  ASSERT_NE(lab_->azure_bird(1), nullptr);
  EXPECT_NE(lab_->azure_bird(0)->socket_path(), lab_->azure_bird(1)->socket_path());
  auto s = lab_->wait_until_up(seconds(90));
  ASSERT_TRUE(s) << s.error();
  wait(seconds(120), [&](const nlohmann::json& st) { return both_sessions_established(st) &&
                                                            learned_from(st, vnet).size() == 2; },
       "both BGP sessions established and the VNet learned from both instances");
  const auto first = status();
  std::cerr << cli::format_status(first);
  // Each Azure instance learned the on-prem prefix over its own session.
  for (size_t i = 0; i < 2; ++i) {
    const auto learned = [&] {
      auto routes = lab_->azure_bird(i)->learned_routes();
      if (!routes) return false;
      for (const auto& r : routes.value()) {
        if (r.prefix.to_string() == "192.168.10.0/24") return true;
      }
      return false;
    };
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (!learned() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(250));
    EXPECT_TRUE(learned()) << "Azure instance " << i << " did not learn the on-prem prefix";
  }
  // Only learned routes may carry the traffic: charon's catch-all table 220 goes.
  for (Node node : {Node::appliance, Node::azure_gw, Node::azure_gw2}) {
    while (lab_->lab().exec(node, {"ip", "rule", "del", "table", "220"}).ok()) {
    }
  }
  std::cerr << "appliance, table 1000: "
            << lab_->lab().exec(Node::appliance, {"ip", "route", "show", "table", "1000", vnet}).out;
  wait(seconds(10), [](const nlohmann::json& st) { return st["fastpath"].value("routes", 0) >= 3; },
       "the learned VNet and both BGP host routes in the fast path");
  {
    lab::PingOptions options;
    options.count = 5;
    options.interval = milliseconds(200);
    auto ping = lab::ping(lab_->lab().netns(Node::onprem), lab_->lab().address(Node::vnet), options);
    ASSERT_TRUE(ping) << ping.error();
    EXPECT_EQ(ping->received, 5) << "ping over the routes learned from both instances";
  }

  // Instance 0 dies: its session goes with its tunnel, its routes are
  // withdrawn, instance 1's carry the traffic.
  {
    auto ping = start_ping("bgp-charon-killed");
    std::this_thread::sleep_for(seconds(2));
    ASSERT_TRUE(lab_->stop_azure_instance(0));
    wait(seconds(kDpdTimeoutSeconds + kFailoverSlackSeconds),
         [&](const nlohmann::json& st) {
           const auto from = learned_from(st, vnet);
           return !up(st, 0) && from.size() == 1 && from.begin()->ends_with("-i1");
         },
         "instance 0's routes withdrawn, the VNet learned from instance 1 only");
    std::this_thread::sleep_for(seconds(4));
    const auto st = status();
    std::cerr << cli::format_status(st);
    expect_loss_within_dpd(std::move(ping), "BGP, instance 0's charon killed");
  }
  // Instance 0 returns: its session comes back and its routes are learned again.
  {
    auto ping = start_ping("bgp-charon-back");
    ASSERT_TRUE(lab_->start_azure_instance(0));
    wait(seconds(120), [&](const nlohmann::json& st) { return up(st, 0) && both_sessions_established(st) &&
                                                              learned_from(st, vnet).size() == 2; },
         "instance 0's session back and the VNet learned from both again");
    std::this_thread::sleep_for(seconds(4));
    std::cerr << cli::format_status(status());
    expect_loss_within_dpd(std::move(ping), "BGP, instance 0's return");
  }
}

}  // namespace
}  // namespace ergw::azure_lab
