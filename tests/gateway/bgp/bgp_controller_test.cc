// ergwd's BgpController without root and without waiting: BIRD is a fake
// process (host FakeLauncher) whose control socket is FakeBird answering with
// real BIRD 2.0.12 replies, charon is FakeCharon, time is a FakeClock and the
// host's rules and addresses are only recorded. The lab tests
// (bgp_lab_test.cc) run the same controller with real BIRDs and charons.
#include "gateway/ergwd/bgp_controller.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "routing/bird_config_writer.h"
#include "tests/gateway/bgp/azure_hub.h"
#include "tests/common/fake_clock.h"
#include "tests/host/fake_launcher.h"
#include "tests/routing/capture.h"
#include "tests/routing/fake_bird.h"
#include "tests/vici/fake_charon.h"
#include "vici/packet.h"

namespace ergw::gateway {
namespace {

using namespace std::chrono_literals;
using host::testing::FakeLauncher;
using host::testing::FakeProcess;
using routing::testing::FakeBird;
using routing::testing::read_capture;

constexpr const char* kProtocol = "ergw_azure_hub";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The capture of an Established session, its protocol named as ergwd names it.
std::string established_reply() {
  return replace_all(read_capture("show_protocols_all_established.txt"), "1002-p1 ", std::string("1002-") + kProtocol + " ");
}

class FakeHostNetwork final : public HostNetwork {
 public:
  Status add_rule(const PolicyRule& rule) override {
    rules.insert(rule);
    return {};
  }
  Status delete_rule(const PolicyRule& rule) override {
    rules.erase(rule);
    return {};
  }
  Status ensure_address_on_loopback(const IpAddress& address, bool& added) override {
    added = addresses.insert(address).second;
    return {};
  }
  Status remove_address_from_loopback(const IpAddress& address) override {
    addresses.erase(address);
    return {};
  }
  std::set<PolicyRule> rules;
  std::set<IpAddress> addresses;
};

vici::Message updown(bool up) {
  vici::Message m;
  if (up) m.set("up", "yes");
  auto& ike = m.section("azure-hub");
  ike.set("uniqueid", "1").set("state", up ? "ESTABLISHED" : "DELETING");
  return m;
}

class BgpControllerTest : public ::testing::Test {
 protected:
  BgpControllerTest()
      : dir_(std::filesystem::temp_directory_path() / ("ergw-bgpc-" + std::to_string(::getpid()) + "-" +
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        clock_(io_),
        launcher_(io_),
        bird_(io_, (dir_ / "bird.ctl").string()),
        charon_(io_, (dir_ / "charon.vici").string()) {
    std::filesystem::create_directories(dir_);
    bird_.on("show status", read_capture("show_status.txt"));
    bird_.on("show protocols all", [this](const std::string&) { return established_reply(); });
    bird_.on("show route", read_capture("show_route_empty_protocol.txt"));
    bird_.on("configure check", read_capture("configure_check_ok.txt"));
    bird_.on("configure \"", read_capture("configure_reconfigured.txt"));
    bird_.on("enable ", [](const std::string& line) { return "0011-" + line.substr(7) + ": enabled\n0000 \n"; });
    bird_.on("disable ", [](const std::string& line) { return "0009-" + line.substr(8) + ": disabled\n0000 \n"; });
    // The fake BIRD lives and dies with its fake process.
    launcher_.on_launch = [this](FakeProcess& process) {
      bird_.listen();
      process.on_end = [this] { bird_.go_away(); };
      process.on_pause = [this](bool paused) { paused ? bird_.pause() : bird_.resume(); };
    };

    charon_.on_command("list-sas", [this](vici::testing::FakeCharon::Session&, const vici::Message&) {
      std::vector<vici::Packet> out;
      if (tunnel_up_) {
        vici::Message sa;
        auto& ike = sa.section("azure-hub");
        ike.set("uniqueid", "1").set("state", "ESTABLISHED");
        auto& children = ike.section("child-sas");
        int id = 0;
        for (const auto& child : installed_children_) {
          ++id;
          children.section(child + "-" + std::to_string(id))
              .set("name", child)
              .set("uniqueid", std::to_string(id))
              .set("state", "INSTALLED");
        }
        out.push_back(vici::Packet::event("list-sa", sa));
      }
      out.push_back(vici::Packet::response());
      return out;
    });
    charon_.listen();
    vici::ClientOptions vici_options;
    vici_options.socket_path = (dir_ / "charon.vici").string();
    vici_options.events = {"ike-updown", "child-updown"};
    client_ = std::make_unique<vici::Client>(io_.get_executor(), vici_options);
    client_->start();
    clock_.settle();

    options_.bird_dir = dir_.string();
    options_.bird_binary = "/usr/sbin/bird";
    controller_ = std::make_unique<BgpController>(
        BgpEnvironment{io_.get_executor(), clock_, launcher_, network_, *client_}, options_);
    // As ergwd wires it.
    client_->on_event([this](const std::string& name, const vici::Message& m) { controller_->tunnel_event(name, m); });
  }

  ~BgpControllerTest() override {
    controller_.reset();
    client_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  BgpPlan plan(const std::vector<const char*>& exports = {"192.168.10.0/24"}) {
    policy::CompiledConfiguration compiled;
    policy::BgpPeerIntent peer = testing::azure_hub_intent();
    peer.export_prefixes.clear();
    for (const char* p : exports) peer.export_prefixes.push_back(*IpPrefix::parse(p));
    compiled.bgp_peers.push_back(peer);
    ConnectionPlan connection = testing::azure_hub_connection();
    connection.children = children_;
    auto planned = plan_bgp(compiled, {connection}, DataPlaneKind::libipsec, options_);
    EXPECT_TRUE(planned.ok()) << (planned.ok() ? "" : planned.error());
    return planned.ok() ? std::move(planned.value()) : BgpPlan{};
  }

  // Applies the plan and lets BIRD greet (the first poll of its socket).
  void start_with_tunnel_up() {
    tunnel_up_ = true;
    controller_->apply(plan());
    clock_.advance(100ms);
    ASSERT_TRUE(controller_->bird().running()) << controller_->bird().error();
  }

  nlohmann::json report(std::chrono::milliseconds deadline = 1000ms) {
    std::optional<nlohmann::json> out;
    controller_->report(deadline, [&](nlohmann::json j) { out = std::move(j); });
    clock_.settle();
    if (!out) clock_.advance(deadline);
    EXPECT_TRUE(out) << "no report within its deadline";
    return out.value_or(nlohmann::json::object());
  }

  std::string file(const std::string& name) const {
    std::ifstream in(dir_ / name);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::filesystem::path dir_;
  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_;
  FakeLauncher launcher_;
  FakeBird bird_;
  vici::testing::FakeCharon charon_;
  FakeHostNetwork network_;
  BgpOptions options_;
  std::unique_ptr<vici::Client> client_;
  std::unique_ptr<BgpController> controller_;
  bool tunnel_up_ = false;  // charon lists the connection's IKE SA, established
  std::vector<std::string> children_{"azure-hub"};            // the connection's CHILDs
  std::vector<std::string> installed_children_{"azure-hub"};  // those with an installed CHILD SA
};

TEST_F(BgpControllerTest, StartsBirdOnThePlanAndEnablesThePeerOfAnUpTunnel) {
  const BgpPlan p = plan();
  start_with_tunnel_up();
  ASSERT_EQ(launcher_.processes().size(), 1u);
  const auto& argv = launcher_.last().spec.argv;
  EXPECT_EQ(argv, (std::vector<std::string>{"/usr/sbin/bird", "-f", "-c", (dir_ / "bird.conf").string(), "-s",
                                            (dir_ / "bird.ctl").string(), "-P", (dir_ / "bird.pid").string()}));
  EXPECT_EQ(file("bird.conf"), p.text);
  EXPECT_EQ(bird_.count("enable " + std::string(kProtocol)), 1);
  // Rules and the BGP address, through the host network.
  EXPECT_EQ(network_.rules.size(), 2u);
  EXPECT_EQ(network_.addresses.count(*IpAddress::parse("192.168.255.1")), 1u);

  const auto r = report();
  EXPECT_TRUE(r["enabled"]);
  EXPECT_TRUE(r["bird"]["running"]);
  EXPECT_TRUE(r["bird"]["answering"]);
  EXPECT_EQ(r["bird"]["pid"], launcher_.last().pid);
  ASSERT_EQ(r["sessions"].size(), 1u);
  EXPECT_EQ(r["sessions"][0]["state"], "Established");
  EXPECT_EQ(r["sessions"][0]["tunnel_up"], true);
  EXPECT_EQ(r["sessions"][0]["hold_time"], 180);
}

// BIRD keeps only "Received: Bad peer AS" for `show protocols`; the AS that
// explains it is in BIRD's log, and the status carries it with a hint and
// the time BIRD still waits before it tries again.
TEST_F(BgpControllerTest, SessionErrorCarriesTheLoggedValueAHintAndTheErrorWait) {
  bird_.on("show protocols all", [](const std::string&) {
    return replace_all(read_capture("show_protocols_all_idle_bad_peer_as.txt"), "1002-p2 ",
                       std::string("1002-") + kProtocol + " ");
  });
  {
    std::ofstream log(dir_ / "bird.log");
    log << "2026-11-22 07:04:40.100 <RMT> " << kProtocol << ": Received: Bad peer AS: 65011\n"
        << "2026-11-22 07:04:51.870 <RMT> " << kProtocol << ": Received: Bad peer AS: 65010\n"
        << "2026-11-22 07:04:51.871 <RMT> ergw_other: Received: Bad peer AS: 64999\n";
  }
  start_with_tunnel_up();
  const auto session = report()["sessions"][0];
  EXPECT_EQ(session["state"], "Idle");
  EXPECT_EQ(session["last_error"], "Received: Bad peer AS: 65010");
  EXPECT_NE(session.value("last_error_hint", "").find("refused ergw's AS 65010"), std::string::npos) << session.dump();
  EXPECT_DOUBLE_EQ(session.value("error_wait_seconds", 0.0), 39.737);
  EXPECT_EQ(session.value("error_wait", 0), 60);
  // Time in the state is not an uptime: the session is not Established.
  EXPECT_TRUE(session.contains("in_state_seconds")) << session.dump();
  EXPECT_FALSE(session.contains("uptime_seconds")) << session.dump();

  // The log is read once per error: later refreshes of the same error keep
  // its value even after the log lost the line.
  std::filesystem::remove(dir_ / "bird.log");
  clock_.advance(5s);
  EXPECT_EQ(report()["sessions"][0]["last_error"], "Received: Bad peer AS: 65010");

  // The same error again later (a new `since`) without a line in the log:
  // the status has BIRD's own text.
  bird_.on("show protocols all", [](const std::string&) {
    return replace_all(replace_all(read_capture("show_protocols_all_idle_bad_peer_as.txt"), "1002-p2 ",
                                   std::string("1002-") + kProtocol + " "),
                       "07:04:51", "07:05:01");
  });
  clock_.advance(5s);  // the next refresh of BIRD's state
  EXPECT_EQ(report()["sessions"][0]["last_error"], "Received: Bad peer AS");
}

TEST_F(BgpControllerTest, TunnelDownDisablesAtOnceAndTunnelUpEnablesAgain) {
  start_with_tunnel_up();
  const int enables = bird_.count("enable ");
  tunnel_up_ = false;
  charon_.emit("child-updown", updown(false));
  // No tick, no SA list needed: the event disables the session right away.
  clock_.settle();
  EXPECT_EQ(bird_.count("disable " + std::string(kProtocol)), 1);
  clock_.advance(1s);  // the confirming list-sas agrees: nothing more is sent
  EXPECT_EQ(bird_.count("disable "), 1);
  auto r = report();
  EXPECT_EQ(r["sessions"][0]["state"], "Disabled");
  EXPECT_EQ(r["sessions"][0]["tunnel_up"], false);

  tunnel_up_ = true;
  charon_.emit("ike-updown", updown(true));
  clock_.advance(200ms);
  EXPECT_EQ(bird_.count("enable "), enables + 1);
  EXPECT_EQ(report()["sessions"][0]["state"], "Established");
}

// The tunnel is up only when every configured CHILD has a CHILD SA
// (gateway/ergwd/tunnel.h): a policy-based connection with one prefix pair
// still missing runs no BGP session, and runs it once the pair is there.
TEST_F(BgpControllerTest, APartialTunnelRunsNoSessionUntilEveryPairIsUp) {
  children_ = {"azure-hub-1", "azure-hub-2"};
  installed_children_ = {"azure-hub-1"};
  tunnel_up_ = true;
  controller_->apply(plan());
  clock_.advance(100ms);
  ASSERT_TRUE(controller_->bird().running()) << controller_->bird().error();
  clock_.advance(1s);
  EXPECT_EQ(bird_.count("enable "), 0) << "one pair has no CHILD SA: the tunnel is PARTIAL";
  EXPECT_EQ(report()["sessions"][0]["tunnel_up"], false);

  installed_children_ = {"azure-hub-1", "azure-hub-2"};
  charon_.emit("child-updown", updown(true));
  clock_.advance(200ms);
  EXPECT_EQ(bird_.count("enable " + std::string(kProtocol)), 1);
  EXPECT_EQ(report()["sessions"][0]["tunnel_up"], true);
}

TEST_F(BgpControllerTest, RestartedBirdGetsTheCurrentConfigurationAndSessionStates) {
  start_with_tunnel_up();
  const pid_t first = launcher_.last().pid;
  // BIRD dies; meanwhile the configuration changes.
  launcher_.last().end(FakeProcess::killed_by(SIGKILL));
  clock_.settle();
  EXPECT_FALSE(controller_->bird().running());
  const BgpPlan changed = plan({"192.168.10.0/24", "192.168.20.0/24"});
  controller_->apply(changed);
  auto down = report();
  EXPECT_FALSE(down["bird"]["running"]);
  EXPECT_NE(down["bird"].value("error", "").find("killed by signal 9"), std::string::npos) << down.dump(2);
  EXPECT_EQ(down["sessions"][0]["state"], "unknown") << "a dead BIRD's sessions are not shown as current";

  clock_.advance(200ms);  // the restart backoff, then the first poll
  clock_.advance(100ms);
  ASSERT_TRUE(controller_->bird().running()) << controller_->bird().error();
  EXPECT_NE(launcher_.last().pid, first);
  EXPECT_EQ(controller_->bird().restarts(), 1u);
  // It came back on the last configuration it accepted, and got the new one
  // through configure, never by another restart.
  EXPECT_EQ(bird_.count("configure check"), 1);
  EXPECT_EQ(bird_.count("configure \"" + (dir_ / "bird.conf").string() + "\""), 1);
  EXPECT_EQ(file("bird.conf"), changed.text);
  EXPECT_EQ(launcher_.processes().size(), 2u);
  // ...and the tunnel's state again (a fresh BIRD's idea may differ).
  EXPECT_GE(bird_.count("enable " + std::string(kProtocol)), 2);
  const auto up = report();
  EXPECT_EQ(up["bird"]["restarts"], 1);
  EXPECT_TRUE(up["bird"]["answering"]);
  EXPECT_FALSE(up["bird"].contains("error")) << up.dump(2);
}

TEST_F(BgpControllerTest, StoppedBirdDelaysNoReportAndGetsTheStateWhenBack) {
  start_with_tunnel_up();
  ASSERT_EQ(report()["sessions"][0]["state"], "Established");
  launcher_.last().signal(SIGSTOP);

  // The report comes at its deadline, says BIRD is not answering, and shows
  // what BIRD said last with its age.
  std::optional<nlohmann::json> r;
  const auto asked = clock_.now();
  controller_->report(1000ms, [&](nlohmann::json j) { r = std::move(j); });
  clock_.advance(999ms);
  EXPECT_FALSE(r);
  clock_.advance(1ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(clock_.now() - asked, 1000ms);
  EXPECT_TRUE((*r)["bird"]["running"]);
  EXPECT_FALSE((*r)["bird"]["answering"]);
  EXPECT_NE((*r)["bird"].value("error", "").find("did not answer within 1000 ms"), std::string::npos) << r->dump(2);
  EXPECT_EQ((*r)["bird"]["data_age_seconds"], 1);
  EXPECT_EQ((*r)["sessions"][0]["state"], "Established");

  // The tunnel goes down while BIRD is stopped: nothing waits for BIRD.
  tunnel_up_ = false;
  charon_.emit("child-updown", updown(false));
  clock_.advance(10s);
  EXPECT_TRUE(controller_->bird().running()) << "a stopped BIRD is no reason to restart it";
  EXPECT_EQ(launcher_.processes().size(), 1u);

  launcher_.last().signal(SIGCONT);
  clock_.advance(2s);  // the next ticks send the wanted state again
  EXPECT_GE(bird_.count("disable " + std::string(kProtocol)), 1);
  const auto back = report();
  EXPECT_TRUE(back["bird"]["answering"]);
  EXPECT_EQ(back["sessions"][0]["state"], "Disabled");
}

TEST_F(BgpControllerTest, RefusedConfigurationKeepsTheRunningOneAndIsNotResent) {
  const BgpPlan first = plan();
  start_with_tunnel_up();
  bird_.on("configure check", read_capture("configure_check_syntax_error.txt"));
  controller_->apply(plan({"192.168.10.0/24", "192.168.30.0/24"}));
  clock_.advance(5s);
  EXPECT_EQ(bird_.count("configure check"), 1) << "a refused configuration was sent again";
  EXPECT_EQ(bird_.count("configure \""), 0);
  EXPECT_EQ(file("bird.conf"), first.text);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bird.conf.new"));
  const auto r = report();
  EXPECT_NE(r["bird"].value("error", "").find("BIRD kept its running configuration"), std::string::npos) << r.dump(2);
  EXPECT_NE(r["bird"].value("error", "").find("syntax error"), std::string::npos);
  EXPECT_EQ(launcher_.processes().size(), 1u) << "never a restart for a configuration";

  // The next configuration that BIRD accepts clears the error.
  bird_.on("configure check", read_capture("configure_check_ok.txt"));
  const BgpPlan third = plan({"192.168.40.0/24"});
  controller_->apply(third);
  clock_.settle();
  EXPECT_EQ(file("bird.conf"), third.text);
  EXPECT_FALSE(report()["bird"].contains("error"));
}

TEST_F(BgpControllerTest, BgpTurnedOffStopsBirdWithoutWaiting) {
  start_with_tunnel_up();
  launcher_.last().ignores_sigterm = true;
  controller_->apply(BgpPlan{});
  clock_.settle();
  EXPECT_EQ(launcher_.last().signals, (std::vector<int>{SIGTERM}));
  EXPECT_FALSE(report()["enabled"]);
  EXPECT_TRUE(network_.rules.empty());
  EXPECT_TRUE(network_.addresses.empty());
  clock_.advance(3s);  // the grace period, then SIGKILL
  EXPECT_EQ(launcher_.last().signals, (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(launcher_.running(), 0);
}

TEST_F(BgpControllerTest, BirdLeftBehindByAnEarlierErgwdIsAskedToLeave) {
  bird_.listen();  // somebody's BIRD answers on our socket already
  bird_.on("down", [this](const std::string&) {
    boost::asio::post(io_, [this] { bird_.go_away(); });
    return std::string("0008 Shutdown requested\n");
  });
  tunnel_up_ = true;
  controller_->apply(plan());
  clock_.advance(500ms);
  EXPECT_EQ(bird_.count("down"), 1);
  ASSERT_EQ(launcher_.processes().size(), 1u);
  EXPECT_TRUE(controller_->bird().running()) << controller_->bird().error();
}

TEST_F(BgpControllerTest, MissingBirdBinaryIsReportedAndRetried) {
  launcher_.refuse = "could not run /usr/sbin/bird: No such file or directory";
  controller_->apply(plan());
  clock_.settle();
  auto r = report();
  EXPECT_FALSE(r["bird"]["running"]);
  EXPECT_NE(r["bird"].value("error", "").find("No such file or directory"), std::string::npos) << r.dump(2);
  const int attempts = launcher_.attempts();
  launcher_.refuse.reset();
  clock_.advance(options_.supervise_interval);
  clock_.advance(100ms);
  EXPECT_GT(launcher_.attempts(), attempts);
  EXPECT_TRUE(controller_->bird().running());
}

}  // namespace
}  // namespace ergw::gateway
