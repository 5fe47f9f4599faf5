// Many site-to-site connections in one lab (lab/azure/many_connections.h): one
// simulated Azure gateway answering on an address per connection, configured
// by the lab's own model of Azure from the same file, and the appliance on the
// fast path with a route-based connection (its own if_id) per tunnel. The
// test checks correctness only, with a modest number of connections; the time
// to bring 100 up and the cost of status and reconcile passes are measured by
// bench/many-tunnels, never asserted.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/cli/status_command.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/lab_config_file.h"
#include "lab/azure/many_connections.h"
#include "lab/azure/pfs_probe_settled.h"
#include "lab/traffic.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// Enough to show that connections are told apart and that a change to one
// leaves the others alone, small enough for the lab tier on 2 cores.
constexpr int kConnections = 8;
// The connection the test changes: one in the middle.
constexpr int kChanged = 4;

bool fastpath_built() { return fs::exists(fs::path(ERGW_PLUGIN_DIR) / "libstrongswan-ergw-ipsec.so"); }

class ManyTunnelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
    if (!fastpath_built()) {
      GTEST_SKIP() << "the ergw-ipsec plugin was not built (run tools/strongswan-source, then build "
                      "ergw-ipsec-plugin): the many-tunnel lab runs the appliance on the fast path, "
                      "the only data plane here that tells route-based tunnels apart";
    }
    dir_ = fs::path(::testing::TempDir()) / ("ergw-many-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      const auto log = lab_->lab().state_dir() / "ergwd.log";
      std::cerr << "---- tail of " << log.string() << "\n"
                << lab_->lab().exec(lab::Node::appliance, {"tail", "-n", "60", log.string()}).out;
    }
    lab_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const nlohmann::json& config) {
    return azure_lab::write_lab_config(dir_, "many", config);
  }

  nlohmann::json status() {
    auto s = lab_->status();
    EXPECT_TRUE(s) << s.error();
    return s ? s.value() : nlohmann::json::object();
  }

  // The appliance's charon's own account of the IKE SAs, by connection.
  std::map<std::string, SaListing> charon_sas() {
    auto listing = lab_->appliance_charon().list_sas();
    EXPECT_TRUE(listing) << listing.error();
    return listing ? parse_sa_listing(listing.value()) : std::map<std::string, SaListing>{};
  }

  fs::path dir_;
  std::unique_ptr<AzureLab> lab_;
};

nlohmann::json find_connection(const nlohmann::json& status, const std::string& name) {
  for (const auto& c : status["connections"]) {
    if (c.value("name", "") == name) return c;
  }
  return nlohmann::json::object();
}

TEST_F(ManyTunnelsTest, AllComeUpEachCarriesItsOwnTrafficAndAChangeToOneLeavesTheOthersAlone) {
  std::ifstream in(fs::path(ERGW_SOURCE_DIR) / "examples/lab.json");
  // ergw dials every tunnel; the simulated Azure side answers (ResponderOnly),
  // so every IKE SA below is ergw's.
  auto config = many_connections(nlohmann::json::parse(in), kConnections, "ResponderOnly");
  ASSERT_TRUE(config) << config.error();
  const auto file = write(config.value());
  std::vector<std::string> names;
  for (const auto& c : config.value()["connections"]) names.push_back(c["name"]);

  AzureLabOptions options;
  options.config_file = file;
  options.ergwd_path = ERGWD_PATH;
  options.fastpath_path = ERGW_FASTPATH_PATH;
  options.ergw_ipsec_plugin_dir = ERGW_PLUGIN_DIR;
  options.appliance_backend = lab::CharonBackend::ergw_ipsec;
  options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  auto created = AzureLab::create(options);
  ASSERT_TRUE(created) << created.error();
  lab_ = std::move(created.value());

  // All up, and the status lists every one, each on its own if_id.
  auto up = lab_->wait_until_up(seconds(60));
  ASSERT_TRUE(up) << up.error();
  auto s = status();
  EXPECT_EQ(s["data_plane"].value("kind", ""), "fastpath");
  ASSERT_EQ(s["connections"].size(), static_cast<size_t>(kConnections));
  std::set<uint32_t> if_ids;
  for (const auto& name : names) {
    const auto c = find_connection(s, name);
    ASSERT_FALSE(c.empty()) << name << " is missing from the status";
    EXPECT_EQ(c.value("state", ""), "UP") << name;
    if_ids.insert(c.value("if_id", 0u));
  }
  EXPECT_EQ(if_ids.size(), static_cast<size_t>(kConnections)) << "every route-based tunnel has its own if_id";
  const auto text = cli::format_status(s);
  for (const auto& name : names) EXPECT_NE(text.find(name), std::string::npos) << name << " not in ergw status";
  // The fast path's own tables: an SA each way and a policy each way per
  // tunnel, and a route per VNet prefix, each to its tunnel's if_id.
  auto tables = lab_->wait_for(
      seconds(5),
      [](const nlohmann::json& now) {
        return now.contains("fastpath") && now["fastpath"].value("sas", 0) >= 2 * kConnections &&
               now["fastpath"].value("routes", 0) >= kConnections;
      },
      "the fast path to hold every tunnel's SAs and routes");
  EXPECT_TRUE(tables) << tables.error();
  ASSERT_TRUE(s.contains("reconciler")) << s.dump();
  EXPECT_GT(s["reconciler"].value("passes", 0), 0);

  // ergwd's PFS probe rekeys each tunnel's CHILD SA about a second after it
  // comes up (new SPIs, counters from zero): the counters below are taken
  // once every probe has concluded and every CHILD SA is installed.
  auto probed = lab_->wait_for(
      seconds(60),
      [](const nlohmann::json& now) {
        for (const auto& c : now["connections"]) {
          if (!pfs_probe_settled(c)) return false;
        }
        return true;
      },
      "every connection's PFS probe to conclude");
  ASSERT_TRUE(probed) << probed.error();

  // The fast path holds them all: a ping to vnet-host's address in each
  // tunnel's VNet prefix leaves by that tunnel's SA (its own if_id, chosen by
  // route) and its answer comes back by it (the Azure side selects each VNet),
  // so that connection's fast-path counters move both ways.
  lab::PingOptions ping;
  ping.count = 2;
  for (int i = 1; i < kConnections; ++i) {
    const auto before = find_connection(status(), names[i]);
    const auto p = lab::ping(lab_->lab().netns(lab::Node::onprem), extra_vnet_address(i), ping);
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->received, 2) << "ping into " << names[i];
    auto moved = lab_->wait_for(
        seconds(5),
        [&](const nlohmann::json& now) {
          const auto c = find_connection(now, names[i]);
          return c.contains("fastpath") && before.contains("fastpath") &&
                 c["fastpath"].value("packets_out", 0ull) >= before["fastpath"].value("packets_out", 0ull) + 2 &&
                 c["fastpath"].value("packets_in", 0ull) >= before["fastpath"].value("packets_in", 0ull) + 2;
        },
        "the fast path's counters of " + names[i] + " to show the pings");
    EXPECT_TRUE(moved) << moved.error();
  }
  const auto vnet = lab::ping(lab_->lab().netns(lab::Node::onprem), lab_->lab().address(lab::Node::vnet), ping);
  ASSERT_TRUE(vnet) << vnet.error();
  EXPECT_EQ(vnet->received, 2) << "ping to the VNet host through " << names[0];

  // A reload (SIGHUP) that changes one connection touches only that one: the
  // other IKE SAs keep their unique ids and SPIs, the changed one gets a new one.
  const auto before = charon_sas();
  for (const auto& name : names) {
    ASSERT_EQ(before.count(name), 1u) << name << " has no IKE SA in charon";
    ASSERT_EQ(before.at(name).ike_sas.size(), 1u) << name << ": one IKE SA each";
  }
  const auto passes_before = status()["reconciler"].value("passes", 0);
  auto changed = config.value();
  changed["connections"][kChanged]["azure"]["properties"]["dpdTimeoutSeconds"] = 60;
  // As an operator does: edit ergwd's configuration file (the export of its
  // active revision), then SIGHUP.
  std::ofstream(lab_->ergwd_config(), std::ios::trunc) << changed.dump(2);
  const auto ergwd = lab_->lab().supervisor().pid("ergwd");
  ASSERT_TRUE(ergwd);
  ASSERT_EQ(::kill(*ergwd, SIGHUP), 0);
  const auto& changed_name = names[kChanged];
  auto replaced = lab_->wait_for(
      seconds(30),
      [&](const nlohmann::json& now) {
        if (now["reconciler"].value("passes", 0) <= passes_before) return false;
        for (const auto& c : now["connections"]) {
          if (c.value("state", "") != "UP") return false;
        }
        auto sas = charon_sas();
        return sas.count(changed_name) && sas[changed_name].ike_sas.size() == 1 &&
               sas[changed_name].ike_sas != before.at(changed_name).ike_sas;
      },
      changed_name + " to come back with a new IKE SA after the reload");
  ASSERT_TRUE(replaced) << replaced.error();
  const auto after = charon_sas();
  for (const auto& name : names) {
    if (name == changed_name) continue;
    ASSERT_EQ(after.count(name), 1u) << name;
    EXPECT_EQ(after.at(name).ike_sas, before.at(name).ike_sas)
        << name << " was touched by a change to " << changed_name << " only";
  }
  // The log says so too: only the changed one was reloaded.
  const auto log = lab_->lab().exec(lab::Node::appliance,
                                    {"grep", "-c", "configuration changed; reloaded",
                                     (lab_->lab().state_dir() / "ergwd.log").string()});
  EXPECT_EQ(log.out, "1\n") << "one connection reloaded";
}

}  // namespace
}  // namespace ergw::azure_lab
