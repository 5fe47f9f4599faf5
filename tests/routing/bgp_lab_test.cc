// Lab tests (label "lab", need root): two real BIRDs in two network
// namespaces joined by a veth pair that stands in for the IPsec tunnel.
//
//   ergw-bgp-<pid>-e                          ergw-bgp-<pid>-a
//   BIRD configured by ergw's generator       BIRD configured as Azure configures itself:
//   lo 169.254.21.2, 169.254.21.6             ASN 65515, lo 169.254.21.1, 169.254.21.5,
//   ergw-t0 ======== veth ("tunnel") ======== azure-t0, passive (Azure never opens APIPA
//   table 1000 (ip rule: lookup 1000)         sessions), announces the VNet 10.1.0.0/16
//
// Two sessions (azure0, azure1) mimic an active-active gateway.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "routing/bird_config_writer.h"
#include "routing/bird_process.h"
#include "routing/bird_queries.h"
#include "routing/protocol_status.h"
#include "routing/route.h"
#include "tests/routing/azure_peer.h"

namespace ergw::routing {
namespace {

RouteQuery route_query(std::string table, std::string protocol, bool all) {
  RouteQuery query;
  query.table = std::move(table);
  query.protocol = std::move(protocol);
  query.all = all;
  return query;
}

using namespace std::chrono_literals;
using testing::azure_apipa_peer;
using testing::ip;
using testing::prefix;

constexpr const char* kBird = "/usr/sbin/bird";
constexpr uint32_t kErgwTable = 1000;
// Generous: sessions need BIRD's 5 s connect delay plus a few round trips.
constexpr auto kSessionDeadline = 60s;

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[1024];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) result.output.append(buffer, n);
  result.status = ::pclose(pipe);
  return result;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::seconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(250ms);
  }
  return condition();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string azure_config(const std::string& dir) {
  return "log \"" + dir + "/azure.log\" all;\n"
         "router id 169.254.21.1;\n"
         "timeformat protocol iso long;\n"
         "protocol device {}\n"
         "# Azure adds host routes to the on-prem BGP addresses over the tunnel itself.\n"
         "protocol static azure_tunnel { ipv4; route 169.254.21.2/32 via \"azure-t0\"; "
         "route 169.254.21.6/32 via \"azure-t0\"; }\n"
         "protocol static vnet { ipv4; route 10.1.0.0/16 blackhole; }\n"
         "protocol kernel { ipv4 { import none; export where proto = \"azure_tunnel\" || source = RTS_BGP; }; "
         "merge paths on; }\n"
         "# Fixed timers 60/180, ASN 65515, never initiates from APIPA, drops the session above 4000 prefixes.\n"
         "protocol bgp instance0 { local 169.254.21.1 as 65515; neighbor 169.254.21.2 as 65010; multihop; passive on;\n"
         "  hold time 180; keepalive time 60; password \"lab-md5-key\";\n"
         "  ipv4 { import limit 4000 action restart; import all; export where proto = \"vnet\"; }; }\n"
         "protocol bgp instance1 { local 169.254.21.5 as 65515; neighbor 169.254.21.6 as 65010; multihop; passive on;\n"
         "  hold time 180; keepalive time 60;\n"
         "  ipv4 { import limit 4000 action restart; import all; export where proto = \"vnet\"; }; }\n";
}

BirdConfig ergw_config(const std::string& dir) {
  BgpPeer a = azure_apipa_peer();
  a.tunnel_interface = "ergw-t0";
  a.kernel_table = kErgwTable;
  a.password = Password(std::string("lab-md5-key"));
  a.export_prefixes = {prefix("192.168.10.0/24"), prefix("192.168.20.0/24")};
  BgpPeer b = a;
  b.name = "azure1";
  b.peer_address = ip("169.254.21.5");
  b.local_address = ip("169.254.21.6");
  b.password.reset();
  b.export_prefixes = {prefix("192.168.10.0/24")};
  BirdConfig config;
  config.router_id = a.local_address;
  config.peers = {a, b};
  config.log_file = dir + "/ergw.log";
  return config;
}

class BgpLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (::access(kBird, X_OK) != 0) GTEST_SKIP() << kBird << " is not installed (Debian package bird2)";
    const std::string tag = "ergw-bgp-" + std::to_string(::getpid());
    ergw_ns_ = tag + "-e";
    azure_ns_ = tag + "-a";
    std::string pattern = (std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;

    auto made = run("ip netns add " + ergw_ns_);
    if (made.status != 0) GTEST_SKIP() << "cannot create a network namespace: " << made.output;
    namespaces_.push_back(ergw_ns_);
    ASSERT_EQ(run("ip netns add " + azure_ns_).status, 0);
    namespaces_.push_back(azure_ns_);
    for (const std::string& step : {
             "ip link add ergw-t0 netns " + ergw_ns_ + " type veth peer name azure-t0 netns " + azure_ns_,
             "ip -n " + ergw_ns_ + " link set lo up", "ip -n " + azure_ns_ + " link set lo up",
             "ip -n " + ergw_ns_ + " link set ergw-t0 up", "ip -n " + azure_ns_ + " link set azure-t0 up",
             "ip -n " + ergw_ns_ + " addr add 169.254.21.2/32 dev lo",
             "ip -n " + ergw_ns_ + " addr add 169.254.21.6/32 dev lo",
             "ip -n " + azure_ns_ + " addr add 169.254.21.1/32 dev lo",
             "ip -n " + azure_ns_ + " addr add 169.254.21.5/32 dev lo",
             // ergw's routes live in its own table; the host looks there first.
             "ip -n " + ergw_ns_ + " rule add pref 1000 lookup " + std::to_string(kErgwTable)}) {
      auto r = run(step);
      if (r.status != 0) {
        // veth is a kernel feature this test can not do without.
        if (step.find("veth") != std::string::npos) GTEST_SKIP() << "cannot create a veth pair: " << r.output;
        FAIL() << step << ": " << r.output;
      }
    }

    ASSERT_TRUE(write_config_file(dir_ + "/azure.conf", azure_config(dir_)).ok());
    auto generated = generate_bird_config(ergw_config(dir_));
    ASSERT_TRUE(generated.ok()) << generated.error();
    ASSERT_TRUE(write_config_file(ergw_conf(), generated->text).ok());

    auto azure = BirdProcess::start(options(azure_ns_, "azure"));
    ASSERT_TRUE(azure.ok()) << azure.error();
    azure_.emplace(std::move(*azure));
    auto ergw = BirdProcess::start(options(ergw_ns_, "ergw"));
    ASSERT_TRUE(ergw.ok()) << ergw.error();
    ergw_.emplace(std::move(*ergw));
  }

  void TearDown() override {
    // Every exit path: BIRDs first (by their pids), then the namespaces
    // (which takes the veth pair with them), then the files.
    if (ergw_) (void)ergw_->stop();
    if (azure_) (void)azure_->stop();
    ergw_.reset();
    azure_.reset();
    for (const auto& ns : namespaces_) run("ip netns del " + ns);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  BirdProcessOptions options(const std::string& ns, const std::string& name) const {
    BirdProcessOptions o;
    o.bird_binary = kBird;
    o.config_path = dir_ + "/" + name + ".conf";
    o.socket_path = dir_ + "/" + name + ".ctl";
    o.pid_path = dir_ + "/" + name + ".pid";
    o.output_path = dir_ + "/" + name + ".out";
    o.network_namespace = ns;
    return o;
  }
  std::string ergw_conf() const { return dir_ + "/ergw.conf"; }

  static std::optional<ProtocolStatus> protocol(BirdProcess& bird, const std::string& name) {
    auto socket = bird.connect(5s);
    if (!socket.ok()) return std::nullopt;
    auto protocols = query_protocols(*socket, name);
    if (!protocols.ok() || protocols->size() != 1) return std::nullopt;
    return protocols->front();
  }

  static bool established(BirdProcess& bird, const std::string& name) {
    auto p = protocol(bird, name);
    return p && p->bgp && p->bgp->state == BgpState::kEstablished;
  }

  static std::vector<Route> routes(BirdProcess& bird, const RouteQuery& query) {
    auto socket = bird.connect(5s);
    if (!socket.ok()) return {};
    auto parsed = query_routes(*socket, query);
    return parsed.ok() ? *parsed : std::vector<Route>{};
  }

  static bool has_route(const std::vector<Route>& list, const std::string& p, const std::string& proto) {
    for (const auto& r : list) {
      if (r.prefix.to_string() == p && r.protocol == proto) return true;
    }
    return false;
  }

  std::string ergw_kernel_table() const {
    return run("ip -n " + ergw_ns_ + " route show table " + std::to_string(kErgwTable)).output;
  }

  void expect_both_established() {
    ASSERT_TRUE(wait_until([&] { return established(*ergw_, "ergw_azure0") && established(*ergw_, "ergw_azure1"); },
                           kSessionDeadline))
        << "ergw side: " << read_file(dir_ + "/ergw.log");
  }

  std::string ergw_ns_, azure_ns_, dir_;
  std::vector<std::string> namespaces_;
  std::optional<BirdProcess> azure_, ergw_;
};

TEST_F(BgpLab, SessionsEstablishAndRoutesFlowBothWays) {
  expect_both_established();
  auto azure0 = protocol(*ergw_, "ergw_azure0");
  ASSERT_TRUE(azure0 && azure0->bgp);
  EXPECT_EQ(azure0->bgp->neighbor_as, 65515u);
  EXPECT_EQ(azure0->bgp->local_as, 65010u);
  EXPECT_EQ(azure0->bgp->neighbor_address, ip("169.254.21.1"));
  EXPECT_EQ(azure0->bgp->hold_time, 180);
  EXPECT_EQ(azure0->bgp->keepalive_time, 60);

  // The ergw side learns the VNet into its own kernel table (ECMP over both sessions).
  EXPECT_TRUE(wait_until([&] { return ergw_kernel_table().find("10.1.0.0/16") != std::string::npos; }, 30s))
      << ergw_kernel_table();
  auto learned = routes(*ergw_, route_query("master4", "ergw_azure0", true));
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].prefix.to_string(), "10.1.0.0/16");
  EXPECT_EQ(learned[0].as_path, (std::vector<uint32_t>{65515}));
  // ...and not into the main table: ergw owns only its table.
  EXPECT_EQ(run("ip -n " + ergw_ns_ + " route show table main").output.find("10.1.0.0"), std::string::npos);

  // Azure learns exactly the on-prem prefixes of each connection; never the VNet back.
  ASSERT_TRUE(wait_until([&] { return has_route(routes(*azure_, route_query("", "", false)), "192.168.20.0/24", "instance0"); }, 30s));
  auto at_azure = routes(*azure_, route_query("", "", true));
  EXPECT_TRUE(has_route(at_azure, "192.168.10.0/24", "instance0"));
  EXPECT_TRUE(has_route(at_azure, "192.168.20.0/24", "instance0"));
  EXPECT_TRUE(has_route(at_azure, "192.168.10.0/24", "instance1"));
  EXPECT_FALSE(has_route(at_azure, "192.168.20.0/24", "instance1"));
  EXPECT_FALSE(has_route(at_azure, "10.1.0.0/16", "instance0"));
  EXPECT_FALSE(has_route(at_azure, "10.1.0.0/16", "instance1"));

  // The config with the MD5 password is private to root.
  struct stat st {};
  ASSERT_EQ(::stat(ergw_conf().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_file(dir_ + "/ergw.log").find("lab-md5-key"), std::string::npos);
}

TEST_F(BgpLab, ConfigureDoesNotFlapAnUnrelatedSession) {
  expect_both_established();
  auto before = protocol(*ergw_, "ergw_azure1");
  auto azure_before = protocol(*azure_, "instance1");
  ASSERT_TRUE(before && azure_before);

  BirdConfig changed = ergw_config(dir_);
  changed.peers[0].export_prefixes.push_back(prefix("192.168.30.0/24"));
  auto generated = generate_bird_config(changed);
  ASSERT_TRUE(generated.ok()) << generated.error();
  auto socket = ergw_->connect();
  ASSERT_TRUE(socket.ok()) << socket.error();
  const pid_t pid = ergw_->pid();
  ASSERT_TRUE(install_config(*socket, ergw_conf(), generated->text).ok());

  ASSERT_TRUE(wait_until([&] { return has_route(routes(*azure_, route_query("", "", false)), "192.168.30.0/24", "instance0"); }, 30s))
      << "the new prefix never reached Azure";
  EXPECT_EQ(ergw_->pid(), pid);  // reconfigured, not restarted
  auto after = protocol(*ergw_, "ergw_azure1");
  auto azure_after = protocol(*azure_, "instance1");
  ASSERT_TRUE(after && after->bgp && azure_after);
  EXPECT_EQ(after->bgp->state, BgpState::kEstablished);
  EXPECT_EQ(after->since, before->since) << "ergw_azure1 went down and up";
  EXPECT_EQ(azure_after->since, azure_before->since) << "Azure's instance1 went down and up";
}

TEST_F(BgpLab, KilledBirdRestartsAndReestablishes) {
  expect_both_established();
  const pid_t old_pid = ergw_->pid();
  ergw_->kill();
  EXPECT_FALSE(ergw_->running());
  // Azure notices the closed TCP session.
  ASSERT_TRUE(wait_until([&] { return !established(*azure_, "instance0"); }, kSessionDeadline));

  auto restarted = BirdProcess::start(options(ergw_ns_, "ergw"));
  ASSERT_TRUE(restarted.ok()) << restarted.error();
  ergw_.emplace(std::move(*restarted));
  EXPECT_NE(ergw_->pid(), old_pid);
  expect_both_established();
  EXPECT_TRUE(wait_until([&] { return established(*azure_, "instance0"); }, kSessionDeadline));
  EXPECT_TRUE(wait_until([&] { return has_route(routes(*ergw_, route_query("", "", false)), "10.1.0.0/16", "ergw_azure0"); }, 30s));
}

TEST_F(BgpLab, BrokenConfigIsRefusedAndTheRunningOneStays) {
  expect_both_established();
  auto before = protocol(*ergw_, "ergw_azure0");
  ASSERT_TRUE(before);
  const std::string good = read_file(ergw_conf());

  auto generated = generate_bird_config(ergw_config(dir_));
  ASSERT_TRUE(generated.ok());
  std::string broken = generated->text + "protocol bgp ergw_broken {\n  local as ;\n}\n";
  auto socket = ergw_->connect();
  ASSERT_TRUE(socket.ok());
  Status status = install_config(*socket, ergw_conf(), broken);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("syntax error"), std::string::npos) << status.error();
  EXPECT_NE(status.error().find(ergw_conf() + ".new:"), std::string::npos) << status.error();
  // The password never shows in the error either.
  EXPECT_EQ(status.error().find("lab-md5-key"), std::string::npos);

  EXPECT_EQ(read_file(ergw_conf()), good);
  EXPECT_FALSE(std::filesystem::exists(ergw_conf() + ".new"));
  auto after = protocol(*ergw_, "ergw_azure0");
  ASSERT_TRUE(after && after->bgp);
  EXPECT_EQ(after->bgp->state, BgpState::kEstablished);
  EXPECT_EQ(after->since, before->since);
  auto socket2 = ergw_->connect();
  ASSERT_TRUE(socket2.ok());
  auto missing = socket2->command("show protocols ergw_broken");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_error());  // the broken protocol never got in
}

TEST_F(BgpLab, UnprivilegedBirdReconfiguresFromAFileItOwns) {
  // Production runs BIRD as "bird" (-u/-g). It drops privileges before
  // writing its pid file and re-reads the config on `configure`, so ergw
  // gives it the 0600 file.
  const passwd* bird_user = ::getpwnam("bird");
  if (bird_user == nullptr) GTEST_SKIP() << "no user \"bird\" (package bird2 creates it)";
  const FileOwner owner{bird_user->pw_uid, bird_user->pw_gid};
  ASSERT_TRUE(ergw_->stop().ok());
  ASSERT_EQ(::chown(dir_.c_str(), owner.uid, owner.gid), 0);
  auto generated = generate_bird_config(ergw_config(dir_));
  ASSERT_TRUE(generated.ok());
  ASSERT_TRUE(write_config_file(ergw_conf(), generated->text, owner).ok());
  ::unlink((dir_ + "/ergw.log").c_str());

  BirdProcessOptions o = options(ergw_ns_, "ergw");
  o.extra_arguments = {"-u", "bird", "-g", "bird"};
  auto started = BirdProcess::start(o);
  ASSERT_TRUE(started.ok()) << started.error() << read_file(o.output_path);
  ergw_.emplace(std::move(*started));
  const std::string proc_status = read_file("/proc/" + std::to_string(ergw_->pid()) + "/status");
  EXPECT_NE(proc_status.find("\nUid:\t" + std::to_string(owner.uid) + "\t"), std::string::npos) << proc_status;
  expect_both_established();

  BirdConfig changed = ergw_config(dir_);
  changed.peers[0].export_prefixes.push_back(prefix("192.168.30.0/24"));
  auto next = generate_bird_config(changed);
  ASSERT_TRUE(next.ok());
  auto socket = ergw_->connect();
  ASSERT_TRUE(socket.ok());
  Status applied = install_config(*socket, ergw_conf(), next->text, owner);
  ASSERT_TRUE(applied.ok()) << applied.error();
  EXPECT_TRUE(wait_until([&] { return has_route(routes(*azure_, route_query("", "", false)), "192.168.30.0/24", "instance0"); }, 30s));
}

TEST_F(BgpLab, SecondBirdOnTheSameSocketIsRefused) {
  auto second = BirdProcess::start(options(ergw_ns_, "ergw"));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("another BIRD already answers"), std::string::npos) << second.error();
  EXPECT_TRUE(ergw_->running());
}

// Start failures are reported with the reason; nothing is left running.
TEST(BirdProcessStart, MissingBinary) {
  BirdProcessOptions o;
  o.bird_binary = "/nonexistent/bird";
  o.config_path = "/nonexistent/bird.conf";
  o.socket_path = "/nonexistent/bird.ctl";
  o.pid_path = "/nonexistent/bird.pid";
  auto started = BirdProcess::start(o);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("could not run /nonexistent/bird"), std::string::npos) << started.error();
}

TEST(BirdProcessStart, BrokenConfigExitsWithBirdsMessage) {
  if (::access(kBird, X_OK) != 0) GTEST_SKIP() << kBird << " is not installed (Debian package bird2)";
  std::string pattern = (std::filesystem::temp_directory_path() / "ergw-bird-start-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  // BIRD parses the file before it does anything else, so this never
  // touches an interface or a route.
  ASSERT_TRUE(write_config_file(dir + "/bird.conf", "router id 192.0.2.1;\nprotocol bgp {\n").ok());
  BirdProcessOptions o;
  o.bird_binary = kBird;
  o.config_path = dir + "/bird.conf";
  o.socket_path = dir + "/bird.ctl";
  o.pid_path = dir + "/bird.pid";
  o.output_path = dir + "/bird.out";
  auto started = BirdProcess::start(o);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("exited with status"), std::string::npos) << started.error();
  EXPECT_NE(read_file(o.output_path).find("bird.conf:"), std::string::npos) << read_file(o.output_path);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace ergw::routing
