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
#include <condition_variable>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "host/process.h"
#include "routing/bird_config_writer.h"
#include "routing/bird_connection.h"
#include "routing/bird_daemon.h"
#include "routing/bird_log.h"
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
  const auto r = host::run_command({"sh", "-c", command + " 2>&1"});
  return {r.exit_code, r.out};
}

// One BIRD run by BirdDaemon (as ergwd runs it) on an event loop of its own
// thread; the test thread waits for what it needs and queries the socket with
// BirdConnection.
class SupervisedBird {
 public:
  explicit SupervisedBird(BirdDaemonOptions options) : work_(io_.get_executor()) {
    thread_ = std::thread([this] { io_.run(); });
    call([this, options] {
      clock_ = make_steady_clock(io_.get_executor());
      launcher_ = host::make_process_launcher(io_.get_executor());
      daemon_ = std::make_unique<BirdDaemon>(io_.get_executor(), *clock_, *launcher_, options);
      daemon_->on_running([this](pid_t) { notify(); });
      daemon_->on_down([this](const std::string& why) {
        std::lock_guard lock(mutex_);
        downs_.push_back(why);
        changed_.notify_all();
      });
      return 0;
    });
  }
  ~SupervisedBird() {
    call([this] {
      daemon_.reset();  // ends BIRD
      return 0;
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // Starts BIRD and waits until it greets (or why it did not).
  Status start() {
    const size_t downs = down_count();
    call([this] {
      daemon_->start();
      return 0;
    });
    if (!wait([&] { return running() || down_count() > downs; }, 20s)) return Error{"no answer from the daemon"};
    if (running()) return Status::success();
    return Error{last_down()};
  }
  Status stop() {
    std::promise<void> done;
    call([this, &done] {
      daemon_->stop([&done] { done.set_value(); });
      return 0;
    });
    return done.get_future().wait_for(10s) == std::future_status::ready ? Status::success()
                                                                        : Status(Error{"BIRD did not stop"});
  }
  bool running() { return call([this] { return daemon_->running(); }); }
  pid_t pid() { return call([this] { return daemon_->pid(); }); }
  unsigned restarts() { return call([this] { return daemon_->restarts(); }); }
  size_t down_count() {
    std::lock_guard lock(mutex_);
    return downs_.size();
  }
  std::string last_down() {
    std::lock_guard lock(mutex_);
    return downs_.empty() ? "" : downs_.back();
  }
  bool wait(const std::function<bool()>& condition, std::chrono::seconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, 50ms);
    }
    return true;
  }

 private:
  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  void notify() {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<host::Launcher> launcher_;
  std::unique_ptr<BirdDaemon> daemon_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> downs_;
};

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
  a.password = Secret(std::string("lab-md5-key"));
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
    ASSERT_TRUE(write_config_file(ergw_conf(), generated.value()).ok());

    azure_ = std::make_unique<SupervisedBird>(options(azure_ns_, "azure"));
    Status azure = azure_->start();
    ASSERT_TRUE(azure.ok()) << azure.error();
    ergw_ = std::make_unique<SupervisedBird>(options(ergw_ns_, "ergw"));
    Status ergw = ergw_->start();
    ASSERT_TRUE(ergw.ok()) << ergw.error();
  }

  void TearDown() override {
    // Every exit path: BIRDs first (by their pids), then the namespaces
    // (which takes the veth pair with them), then the files.
    ergw_.reset();
    azure_.reset();
    for (const auto& ns : namespaces_) run("ip netns del " + ns);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  BirdDaemonOptions options(const std::string& ns, const std::string& name) const {
    BirdDaemonOptions o;
    o.bird_binary = kBird;
    o.config_path = dir_ + "/" + name + ".conf";
    o.socket_path = dir_ + "/" + name + ".ctl";
    o.pid_path = dir_ + "/" + name + ".pid";
    o.output_path = dir_ + "/" + name + ".out";
    o.network_namespace = ns;
    return o;
  }
  std::string ergw_conf() const { return dir_ + "/ergw.conf"; }
  std::string ergw_socket() const { return dir_ + "/ergw.ctl"; }
  std::string azure_socket() const { return dir_ + "/azure.ctl"; }

  static std::optional<ProtocolStatus> protocol(const std::string& socket, const std::string& name) {
    auto protocols = BirdConnection(socket).protocols(name);
    if (!protocols.ok() || protocols->size() != 1) return std::nullopt;
    return protocols->front();
  }

  static bool established(const std::string& socket, const std::string& name) {
    auto p = protocol(socket, name);
    return p && p->bgp && p->bgp->state == BgpState::kEstablished;
  }

  static std::vector<Route> routes(const std::string& socket, const RouteQuery& query) {
    auto parsed = BirdConnection(socket).routes(query);
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
    ASSERT_TRUE(wait_until([&] { return established(ergw_socket(), "ergw_azure0") && established(ergw_socket(), "ergw_azure1"); },
                           kSessionDeadline))
        << "ergw side: " << read_file(dir_ + "/ergw.log");
  }

  std::string ergw_ns_, azure_ns_, dir_;
  std::vector<std::string> namespaces_;
  std::unique_ptr<SupervisedBird> azure_, ergw_;
};

TEST_F(BgpLab, SessionsEstablishAndRoutesFlowBothWays) {
  expect_both_established();
  auto azure0 = protocol(ergw_socket(), "ergw_azure0");
  ASSERT_TRUE(azure0 && azure0->bgp);
  EXPECT_EQ(azure0->bgp->neighbor_as, 65515u);
  EXPECT_EQ(azure0->bgp->local_as, 65010u);
  EXPECT_EQ(azure0->bgp->neighbor_address, ip("169.254.21.1"));
  EXPECT_EQ(azure0->bgp->hold_time, 180);
  EXPECT_EQ(azure0->bgp->keepalive_time, 60);

  // The ergw side learns the VNet into its own kernel table (ECMP over both sessions).
  EXPECT_TRUE(wait_until([&] { return ergw_kernel_table().find("10.1.0.0/16") != std::string::npos; }, 30s))
      << ergw_kernel_table();
  auto learned = routes(ergw_socket(), route_query("master4", "ergw_azure0", true));
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].prefix.to_string(), "10.1.0.0/16");
  EXPECT_EQ(learned[0].as_path, (std::vector<uint32_t>{65515}));
  // ...and not into the main table: ergw owns only its table.
  EXPECT_EQ(run("ip -n " + ergw_ns_ + " route show table main").output.find("10.1.0.0"), std::string::npos);

  // Azure learns exactly the on-prem prefixes of each connection; never the VNet back.
  // Both sessions' exports: each arrives in its own time (under load, the
  // second some seconds after the first).
  ASSERT_TRUE(wait_until(
      [&] {
        const auto all = routes(azure_socket(), route_query("", "", false));
        return has_route(all, "192.168.20.0/24", "instance0") && has_route(all, "192.168.10.0/24", "instance1");
      },
      30s));
  auto at_azure = routes(azure_socket(), route_query("", "", true));
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
  auto before = protocol(ergw_socket(), "ergw_azure1");
  auto azure_before = protocol(azure_socket(), "instance1");
  ASSERT_TRUE(before && azure_before);

  BirdConfig changed = ergw_config(dir_);
  changed.peers[0].export_prefixes.push_back(prefix("192.168.30.0/24"));
  auto generated = generate_bird_config(changed);
  ASSERT_TRUE(generated.ok()) << generated.error();
  const pid_t pid = ergw_->pid();
  const ConfigOutcome installed = BirdConnection(ergw_socket()).install_config(ergw_conf(), generated.value());
  ASSERT_TRUE(installed.ok()) << installed.message;

  ASSERT_TRUE(wait_until([&] { return has_route(routes(azure_socket(), route_query("", "", false)), "192.168.30.0/24", "instance0"); }, 30s))
      << "the new prefix never reached Azure";
  EXPECT_EQ(ergw_->pid(), pid);  // reconfigured, not restarted
  auto after = protocol(ergw_socket(), "ergw_azure1");
  auto azure_after = protocol(azure_socket(), "instance1");
  ASSERT_TRUE(after && after->bgp && azure_after);
  EXPECT_EQ(after->bgp->state, BgpState::kEstablished);
  EXPECT_EQ(after->since, before->since) << "ergw_azure1 went down and up";
  EXPECT_EQ(azure_after->since, azure_before->since) << "Azure's instance1 went down and up";
}

TEST_F(BgpLab, KilledBirdIsRestartedByItsSupervisorAndReestablishes) {
  expect_both_established();
  const pid_t old_pid = ergw_->pid();
  ASSERT_GT(old_pid, 0);
  ASSERT_EQ(::kill(old_pid, SIGKILL), 0);
  // The supervisor hears of the exit and starts a new BIRD after its backoff.
  ASSERT_TRUE(ergw_->wait([&] { return ergw_->restarts() == 1 && ergw_->running(); }, 30s)) << ergw_->last_down();
  EXPECT_NE(ergw_->pid(), old_pid);
  EXPECT_NE(ergw_->last_down().find("killed by signal 9"), std::string::npos) << ergw_->last_down();
  EXPECT_FALSE(host::process_alive(old_pid)) << "the killed BIRD was not reaped";
  expect_both_established();
  EXPECT_TRUE(wait_until([&] { return established(azure_socket(), "instance0"); }, kSessionDeadline));
  EXPECT_TRUE(wait_until([&] { return has_route(routes(ergw_socket(), route_query("", "", false)), "10.1.0.0/16", "ergw_azure0"); }, 30s));
}

TEST_F(BgpLab, BrokenConfigIsRefusedAndTheRunningOneStays) {
  expect_both_established();
  auto before = protocol(ergw_socket(), "ergw_azure0");
  ASSERT_TRUE(before);
  const std::string good = read_file(ergw_conf());

  auto generated = generate_bird_config(ergw_config(dir_));
  ASSERT_TRUE(generated.ok());
  std::string broken = generated.value() + "protocol bgp ergw_broken {\n  local as ;\n}\n";
  const ConfigOutcome status = BirdConnection(ergw_socket()).install_config(ergw_conf(), broken);
  ASSERT_EQ(status.verdict, ConfigVerdict::refused) << status.message;
  EXPECT_NE(status.message.find("syntax error"), std::string::npos) << status.message;
  EXPECT_NE(status.message.find(ergw_conf() + ".new:"), std::string::npos) << status.message;
  // The password never shows in the error either.
  EXPECT_EQ(status.message.find("lab-md5-key"), std::string::npos);

  EXPECT_EQ(read_file(ergw_conf()), good);
  EXPECT_FALSE(std::filesystem::exists(ergw_conf() + ".new"));
  auto after = protocol(ergw_socket(), "ergw_azure0");
  ASSERT_TRUE(after && after->bgp);
  EXPECT_EQ(after->bgp->state, BgpState::kEstablished);
  EXPECT_EQ(after->since, before->since);
  auto missing = BirdConnection(ergw_socket()).command("show protocols ergw_broken");
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
  ASSERT_TRUE(write_config_file(ergw_conf(), generated.value(), owner).ok());
  ::unlink((dir_ + "/ergw.log").c_str());

  BirdDaemonOptions o = options(ergw_ns_, "ergw");
  o.extra_arguments = {"-u", "bird", "-g", "bird"};
  ergw_ = std::make_unique<SupervisedBird>(o);
  Status started = ergw_->start();
  ASSERT_TRUE(started.ok()) << started.error() << read_file(o.output_path);
  const std::string proc_status = read_file("/proc/" + std::to_string(ergw_->pid()) + "/status");
  EXPECT_NE(proc_status.find("\nUid:\t" + std::to_string(owner.uid) + "\t"), std::string::npos) << proc_status;
  expect_both_established();

  BirdConfig changed = ergw_config(dir_);
  changed.peers[0].export_prefixes.push_back(prefix("192.168.30.0/24"));
  auto next = generate_bird_config(changed);
  ASSERT_TRUE(next.ok());
  const ConfigOutcome applied = BirdConnection(ergw_socket()).install_config(ergw_conf(), next.value(), owner);
  ASSERT_TRUE(applied.ok()) << applied.message;
  EXPECT_TRUE(wait_until([&] { return has_route(routes(azure_socket(), route_query("", "", false)), "192.168.30.0/24", "instance0"); }, 30s));
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Azure also announces the address prefixes of every other local network
// gateway on the same VPN gateway ("What Azure advertises", Microsoft's BGP
// overview). One of them overlaps an on-prem prefix that ergw announces:
// ergw's import filter refuses it, and BIRD counts it as filtered (ergw's
// config keeps filtered routes, so the count is not always 0).
TEST_F(BgpLab, RefusedRoutesAreCountedAsFiltered) {
  expect_both_established();
  std::string azure = azure_config(dir_);
  azure = replaced(azure, "protocol static vnet { ipv4; route 10.1.0.0/16 blackhole; }\n",
                   "protocol static vnet { ipv4; route 10.1.0.0/16 blackhole; }\n"
                   "protocol static other_site { ipv4; route 192.168.10.0/24 blackhole; }\n");
  azure = replaced(azure, "export where proto = \"vnet\"; }; }\nprotocol bgp instance1",
                   "export where proto = \"vnet\" || proto = \"other_site\"; }; }\nprotocol bgp instance1");
  const ConfigOutcome installed = BirdConnection(azure_socket()).install_config(dir_ + "/azure.conf", azure);
  ASSERT_TRUE(installed.ok()) << installed.message;

  auto counts = [&]() -> std::optional<RouteCounts> {
    auto p = protocol(ergw_socket(), "ergw_azure0");
    const ChannelStatus* ch = p ? p->channel("ipv4") : nullptr;
    return ch ? ch->routes : std::nullopt;
  };
  ASSERT_TRUE(wait_until([&] { auto c = counts(); return c && c->filtered == 1; }, 30s))
      << "ergw_azure0: " << (counts() ? std::to_string(counts()->filtered) : std::string("no counts")) << " filtered";
  EXPECT_EQ(counts()->imported, 1u);  // the VNet
  // The refused route is kept for inspection, never used.
  auto filtered = BirdConnection(ergw_socket()).command("show route filtered protocol ergw_azure0");
  ASSERT_TRUE(filtered.ok());
  EXPECT_NE(filtered->text().find("192.168.10.0/24"), std::string::npos) << filtered->text();
  EXPECT_EQ(ergw_kernel_table().find("192.168.10.0"), std::string::npos) << ergw_kernel_table();
  // The other session gets no such route and counts nothing.
  auto other = protocol(ergw_socket(), "ergw_azure1");
  ASSERT_TRUE(other && other->channel("ipv4") && other->channel("ipv4")->routes);
  EXPECT_EQ(other->channel("ipv4")->routes->filtered, 0u);
}

// Azure's side answers with another AS than ergw expects: ergw's BIRD sends
// "Bad peer AS" and keeps only "BGP Error: Bad peer AS" for `show protocols`; the AS Azure
// sent is in its log (see routing/bird_log.h). Then BIRD holds the session
// back for ergw's error wait (5 s at first), not BIRD's default 60 s.
TEST_F(BgpLab, BadPeerAsIsLoggedWithTheAsAzureSentAndWaitsSecondsNotAMinute) {
  expect_both_established();
  const std::string azure = replaced(azure_config(dir_), "local 169.254.21.1 as 65515;", "local 169.254.21.1 as 65516;");
  const ConfigOutcome installed = BirdConnection(azure_socket()).install_config(dir_ + "/azure.conf", azure);
  ASSERT_TRUE(installed.ok()) << installed.message;

  std::optional<ProtocolStatus> p;
  ASSERT_TRUE(wait_until([&] {
    p = protocol(ergw_socket(), "ergw_azure0");
    return p && p->bgp && p->bgp->last_error == "BGP Error: Bad peer AS";
  }, kSessionDeadline)) << "ergw_azure0: " << (p ? p->info + " / last error: " + (p->bgp ? p->bgp->last_error : "-") : "-")
                        << "\nergw side: " << read_file(dir_ + "/ergw.log");
  EXPECT_EQ(logged_session_error(read_file(dir_ + "/ergw.log"), "ergw_azure0", p->bgp->last_error),
            "BGP Error: Bad peer AS: 65516")
      << read_file(dir_ + "/ergw.log");
  // BIRD shows the wait while it lasts; after the first error it is the minimum.
  ASSERT_TRUE(wait_until([&] {
    p = protocol(ergw_socket(), "ergw_azure0");
    return p && p->bgp && p->bgp->error_wait;
  }, 10s)) << "BIRD never showed an error wait";
  EXPECT_EQ(*p->bgp->error_wait, kErrorWaitMinSeconds);
  EXPECT_LE(*p->bgp->error_wait_left, static_cast<double>(kErrorWaitMinSeconds));
  // The other session, with the right AS, stays up.
  EXPECT_TRUE(established(ergw_socket(), "ergw_azure1"));
}

TEST_F(BgpLab, SecondBirdOnTheSameSocketIsRefused) {
  SupervisedBird second(options(ergw_ns_, "ergw"));
  Status started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("another BIRD already answers"), std::string::npos) << started.error();
  EXPECT_TRUE(ergw_->running());
  EXPECT_TRUE(BirdConnection(ergw_socket()).status().ok());
}

// A BIRD left behind by an earlier ergwd (running, but nobody's child any
// more) is asked to leave, and ours takes its place on the socket.
TEST_F(BgpLab, StaleBirdIsShutDownWhenAskedTo) {
  ASSERT_TRUE(ergw_->stop().ok());
  const BirdDaemonOptions o = options(ergw_ns_, "ergw");
  host::LaunchSpec orphan;
  orphan.argv = {"ip", "netns", "exec", ergw_ns_, kBird, "-f", "-c", o.config_path, "-s", o.socket_path, "-P", o.pid_path};
  auto stale = host::spawn(orphan);
  ASSERT_TRUE(stale.ok()) << stale.error();
  ASSERT_TRUE(BirdConnection(ergw_socket()).wait_until_answering(10s).ok());

  BirdDaemonOptions successor_options = o;
  successor_options.stale = StaleBird::shut_down;
  SupervisedBird successor(successor_options);
  Status started = successor.start();
  ASSERT_TRUE(started.ok()) << started.error();
  EXPECT_NE(successor.pid(), *stale);
  EXPECT_TRUE(successor.wait([&] { return host::reap_if_exited(*stale); }, 10s)) << "the stale BIRD still runs";
  EXPECT_TRUE(BirdConnection(ergw_socket()).status().ok());
  expect_both_established();
}

// Start failures are reported with the reason; nothing is left running.
TEST(BirdDaemonStart, MissingBinary) {
  BirdDaemonOptions o;
  o.bird_binary = "/nonexistent/bird";
  o.config_path = "/nonexistent/bird.conf";
  o.socket_path = "/nonexistent/bird.ctl";
  o.pid_path = "/nonexistent/bird.pid";
  SupervisedBird bird(o);
  Status started = bird.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("could not run /nonexistent/bird"), std::string::npos) << started.error();
}

TEST(BirdDaemonStart, BrokenConfigExitsWithBirdsMessage) {
  if (::access(kBird, X_OK) != 0) GTEST_SKIP() << kBird << " is not installed (Debian package bird2)";
  std::string pattern = (std::filesystem::temp_directory_path() / "ergw-bird-start-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  // BIRD parses the file before it does anything else, so this never
  // touches an interface or a route.
  ASSERT_TRUE(write_config_file(dir + "/bird.conf", "router id 192.0.2.1;\nprotocol bgp {\n").ok());
  BirdDaemonOptions o;
  o.bird_binary = kBird;
  o.config_path = dir + "/bird.conf";
  o.socket_path = dir + "/bird.ctl";
  o.pid_path = dir + "/bird.pid";
  o.output_path = dir + "/bird.out";
  {
    SupervisedBird bird(o);
    Status started = bird.start();
    ASSERT_FALSE(started.ok());
    EXPECT_NE(started.error().find("exited with status"), std::string::npos) << started.error();
    EXPECT_NE(started.error().find("before it greeted"), std::string::npos) << started.error();
    EXPECT_NE(started.error().find("see " + o.output_path), std::string::npos) << started.error();
    EXPECT_NE(read_file(o.output_path).find("bird.conf:"), std::string::npos) << read_file(o.output_path);
    ASSERT_TRUE(bird.stop().ok());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace ergw::routing
