// The kernel data plane end to end: the lab with the appliance's charon on
// kernel ESP (kernel-netlink programs XFRM; no kernel-libipsec) and ergwd
// choosing dataPlane "kernel", so ergwd creates the xfrm interface
// ergw<if_id> and routes the VNet into it. The simulated Azure side stays on
// kernel-libipsec (userspace ESP, always in UDP/4500: it fakes NAT detection,
// RFC 7296 2.23, so our kernel side encapsulates too).
//
// Needs a kernel with ESP, xfrm interfaces and GCM: the build machine's has
// none, so tests/kernel/run-in-vm runs this binary in Debian's kernel under
// qemu (ctest label `kernel`). Elsewhere every test skips and says why.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab/azure/azure_lab.h"
#include "gateway/cli/status_command.h"
#include "gateway/ergwd/data_plane.h"
#include "lab/traffic.h"
#include "tests/kernel/xfrm_state_text.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const fs::path kGolden = fs::path(ERGW_SOURCE_DIR) / "tests/gateway/policy/golden";

struct KernelCase {
  const char* golden;         // a golden configuration (route-based, if_id 1)
  const char* data_plane;     // appliance.dataPlane: "auto" must detect the kernel, "kernel" forces it
  const char* xfrm_algorithm; // what `ip xfrm state` must show for the negotiated ESP algorithms
  const char* child_encryption;
};

// The lab with the appliance on kernel ESP and ergwd on `config` (written,
// mode 0600, into `dir`).
Result<std::unique_ptr<AzureLab>> start_kernel_lab(const fs::path& dir, const nlohmann::json& config) {
  const auto file = dir / "ergw.json";
  std::ofstream(file) << config.dump(2);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  AzureLabOptions options;
  options.config_file = file;
  options.ergwd_path = ERGWD_PATH;
  options.appliance_backend = lab::CharonBackend::kernel_esp;
  options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  return AzureLab::create(options);
}

void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.golden << " with dataPlane " << c.data_plane; }

class KernelTunnelTest : public ::testing::TestWithParam<KernelCase> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
    const auto offer = host::probe_kernel();
    std::cerr << offer.to_string();
    if (!offer.carries_kernel_esp()) {
      GTEST_SKIP() << "this kernel cannot carry ergw's kernel data plane (" << offer.summary()
                   << "); tests/kernel/run-in-vm runs this test in Debian's kernel under qemu";
    }
    dir_ = fs::path(::testing::TempDir()) / ("ergw-kernel-" + std::to_string(getpid()) + "-" +
                                             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                             "-" + std::string(GetParam().data_plane));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    lab_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void start(const KernelCase& c) {
    nlohmann::json config;
    std::ifstream(kGolden / (std::string(c.golden) + ".json")) >> config;
    config["appliance"]["dataPlane"] = c.data_plane;
    auto created = start_kernel_lab(dir_, config);
    ASSERT_TRUE(created) << created.error();
    lab_ = std::move(created.value());
  }

  nlohmann::json status() {
    auto s = lab_->status();
    EXPECT_TRUE(s) << s.error();
    return s ? s.value() : nlohmann::json::object();
  }
  nlohmann::json connection() { return status()["connections"][0]; }

  uint64_t child_packets() {
    uint64_t total = 0;
    for (const auto& c : cli::all_children(connection())) {
      total += c.value("packets_in", 0ull) + c.value("packets_out", 0ull);
    }
    return total;
  }

  std::string appliance(const std::vector<std::string>& argv) {
    const auto r = lab_->lab().exec(lab::Node::appliance, argv);
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  fs::path dir_;
  std::unique_ptr<AzureLab> lab_;
};

TEST_P(KernelTunnelTest, XfrmInterfaceCarriesPingAndIperf) {
  const auto& c = GetParam();
  start(c);
  ASSERT_TRUE(lab_);
  // TCG emulation is slow: give the first exchange time.
  auto up = lab_->wait_until_up(seconds(120));
  ASSERT_TRUE(up) << up.error();
  const auto s = status();
  std::cerr << cli::format_status(s);

  // ergwd chose the kernel data plane, and why.
  EXPECT_EQ(s["data_plane"].value("kind", ""), "kernel") << s["data_plane"].dump();
  if (std::string(c.data_plane) == "auto") {
    EXPECT_EQ(s["data_plane"].value("why", "").rfind("detected", 0), 0u) << s["data_plane"].dump();
  }
  const auto conn = s["connections"][0];
  ASSERT_EQ(conn.value("if_id", 0u), 1u);
  EXPECT_EQ(conn.value("device", ""), "ergw1");
  EXPECT_EQ(conn["children"][0].value("encryption", ""), c.child_encryption);

  // The xfrm interface ergw1 with if_id 1, and the VNet routed into it.
  const auto link = appliance({"ip", "-d", "link", "show", "ergw1"});
  EXPECT_NE(link.find("xfrm if_id 0x1"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1400"), std::string::npos) << link;
  const auto routes = appliance({"ip", "route", "show", "dev", "ergw1"});
  EXPECT_NE(routes.find("10.0.2.0/24"), std::string::npos) << routes;

  // charon programmed the kernel: the SAs with the negotiated algorithms,
  // bound to if_id 1, and no libipsec TUN on the appliance.
  const auto states = appliance({"ip", "xfrm", "state"});
  std::cerr << "ip xfrm state (keys not shown):\n" << kernel_tests::xfrm_state_without_keys(states);
  EXPECT_NE(states.find(c.xfrm_algorithm), std::string::npos) << "negotiated algorithm missing from ip xfrm state";
  EXPECT_NE(states.find("if_id 0x1"), std::string::npos);
  EXPECT_NE(states.find("proto esp"), std::string::npos);
  const auto policies = appliance({"ip", "xfrm", "policy"});
  EXPECT_NE(policies.find("if_id 0x1"), std::string::npos) << policies;
  EXPECT_FALSE(lab_->lab().exec(lab::Node::appliance, {"ip", "link", "show", "ipsec0"}).ok())
      << "the appliance runs kernel-libipsec after all";

  // Traffic through ESP: the CHILD SA's counters (kernel XFRM state) move.
  const auto before = child_packets();
  lab::PingOptions ping_options;
  ping_options.count = 4;
  auto ping = lab::ping(lab_->lab().netns(lab::Node::onprem), lab_->lab().address(lab::Node::vnet), ping_options);
  ASSERT_TRUE(ping) << ping.error();
  EXPECT_EQ(ping->received, 4) << "ping through ergw1 lost packets";
  const auto after_ping = child_packets();
  EXPECT_GE(after_ping, before + 8) << "the CHILD SA's counters did not move: traffic bypassed ESP";

  lab::IperfOptions iperf_options;
  iperf_options.duration = seconds(2);
  auto iperf = lab::iperf3(lab_->lab().netns(lab::Node::vnet), lab::address_only(lab_->lab().addresses().vnet_host),
                           lab_->lab().netns(lab::Node::onprem), lab_->lab().state_dir(), iperf_options);
  ASSERT_TRUE(iperf) << iperf.error();
  std::cerr << "iperf3 onprem-host -> vnet-host over kernel ESP (emulated CPU, not a benchmark): "
            << iperf->received_bits_per_second / 1e6 << " Mbit/s, " << iperf->bytes_received << " bytes\n";
  EXPECT_GT(iperf->bytes_received, 0);
  EXPECT_GT(child_packets(), after_ping + 100) << "iperf3's packets did not go through the CHILD SA";
  const auto stats = appliance({"ip", "-s", "link", "show", "ergw1"});
  std::cerr << stats;
}

// BGP in kernel mode: the routes BIRD learns from Azure go into ergw's table
// toward the xfrm interface ergw<if_id>, not a TUN.
TEST(KernelBgpTest, LearnedRoutesPointIntoTheXfrmInterface) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
  if (!fs::exists("/usr/sbin/bird")) GTEST_SKIP() << "needs BIRD 2 (/usr/sbin/bird)";
  const auto offer = host::probe_kernel();
  if (!offer.carries_kernel_esp()) {
    GTEST_SKIP() << "this kernel cannot carry ergw's kernel data plane (" << offer.summary()
                 << "); tests/kernel/run-in-vm runs this test in Debian's kernel under qemu";
  }
  const auto dir = fs::path(::testing::TempDir()) / ("ergw-kernel-bgp-" + std::to_string(getpid()));
  fs::create_directories(dir);
  nlohmann::json config;
  std::ifstream(fs::path(ERGW_SOURCE_DIR) / "examples/lab-bgp.json") >> config;
  config["appliance"]["dataPlane"] = "kernel";
  auto created = start_kernel_lab(dir, config);
  ASSERT_TRUE(created) << created.error();
  auto& lab = *created.value();
  auto up = lab.wait_until_up(seconds(120));
  ASSERT_TRUE(up) << up.error();
  auto learned = lab.wait_for(
      seconds(120),
      [](const nlohmann::json& st) {
        for (const auto& r : st["bgp"].value("routes", nlohmann::json::array())) {
          if (r.value("prefix", "") == "10.0.0.0/16" && r.value("installed", false)) return true;
        }
        return false;
      },
      "10.0.0.0/16 learned over BGP");
  ASSERT_TRUE(learned) << learned.error();
  auto st = lab.status();
  ASSERT_TRUE(st) << st.error();
  std::cerr << cli::format_status(st.value());
  EXPECT_EQ(st.value()["data_plane"].value("kind", ""), "kernel");
  const auto table = lab.lab().exec(lab::Node::appliance, {"ip", "route", "show", "table", "1000"});
  // "10.0.0.0/16 via 10.0.1.30 dev ergw1 proto bird": an xfrm interface keeps the BGP next hop.
  EXPECT_TRUE(std::regex_search(table.out, std::regex("10\\.0\\.0\\.0/16 (via 10\\.0\\.1\\.30 )?dev ergw1 proto bird")))
      << table.out;
  const auto main_table = lab.lab().exec(lab::Node::appliance, {"ip", "route", "show"});
  EXPECT_EQ(main_table.out.find("10.0.0.0/16"), std::string::npos) << main_table.out;
  EXPECT_EQ(main_table.out.find("10.0.2."), std::string::npos) << main_table.out;
  // Only the learned route can carry it: drop the Azure side's charon catch-all (table 220).
  while (lab.lab().exec(lab::Node::azure_gw, {"ip", "rule", "del", "table", "220"}).ok()) {
  }
  const auto packets = [&] {
    uint64_t total = 0;
    auto s = lab.status();
    if (!s) return total;
    for (const auto& c : cli::all_children(s.value()["connections"][0])) {
      total += c.value("packets_in", 0ull) + c.value("packets_out", 0ull);
    }
    return total;
  };
  const auto before = packets();
  lab::PingOptions ping_options;
  ping_options.count = 4;
  auto ping = lab::ping(lab.lab().netns(lab::Node::onprem), lab.lab().address(lab::Node::vnet), ping_options);
  ASSERT_TRUE(ping) << ping.error();
  EXPECT_EQ(ping->received, 4) << "ping over the learned route through ergw1 lost packets";
  EXPECT_GE(packets(), before + 8) << "the CHILD SA's counters did not move: traffic bypassed ESP";
  created.value().reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(
    Kernel, KernelTunnelTest,
    ::testing::Values(KernelCase{"gcmaes256-ecp384", "auto", "rfc4106(gcm(aes))", "AES_GCM_16_256"},
                      KernelCase{"aes256-sha256-dh14-pfs2048", "kernel", "hmac(sha256)", "AES_CBC_256"}),
    [](const auto& param_info) {
      return std::string(param_info.param.golden).substr(0, 6) + "_" + param_info.param.data_plane;
    });

}  // namespace
}  // namespace ergw::azure_lab
