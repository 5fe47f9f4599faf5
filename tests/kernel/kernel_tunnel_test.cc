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
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/cli/status_command.h"
#include "tests/kernel/kernel_lab_test.h"
#include "tests/kernel/xfrm_state_text.h"

namespace ergw::kernel_tests {
namespace {

using std::chrono::seconds;

struct KernelCase {
  const char* golden;         // a golden configuration (route-based, if_id 1)
  const char* data_plane;     // appliance.dataPlane: "auto" must detect the kernel, "kernel" forces it
  const char* xfrm_algorithm; // what `ip xfrm state` must show for the negotiated ESP algorithms
  const char* child_encryption;
  int tunnel_mtu;  // ESP in UDP over a 1500-byte path (docs/ergwd.md "Tunnel MTU")
};

void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.golden << " with dataPlane " << c.data_plane; }

// The appliance on kernel ESP (its charon without kernel-libipsec), ergwd on
// `config`; the Azure side on kernel-libipsec.
azure_lab::AzureLabOptions appliance_on_kernel_esp() {
  azure_lab::AzureLabOptions options;
  options.appliance_backend = lab::CharonBackend::kernel_esp;
  return options;
}

class KernelTunnelTest : public KernelLabTest, public ::testing::WithParamInterface<KernelCase> {
 protected:
  void SetUp() override { skip_unless_kernel_esp(); }

  std::string appliance(const std::vector<std::string>& argv) { return in_node(lab::Node::appliance, argv); }
};

TEST_P(KernelTunnelTest, XfrmInterfaceCarriesPingAndIperf) {
  const auto& c = GetParam();
  auto s = bring_up(c.golden, c.data_plane, appliance_on_kernel_esp());
  ASSERT_FALSE(HasFailure());

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
  // ergwd sets its MTU from the negotiated ESP overhead (created with 1400,
  // Azure's advice, until the CHILD SA is up).
  std::string sized = link;
  for (int i = 0; i < 20 && sized.find("mtu " + std::to_string(c.tunnel_mtu) + " ") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    sized = appliance({"ip", "-d", "link", "show", "ergw1"});
  }
  EXPECT_NE(sized.find("mtu " + std::to_string(c.tunnel_mtu) + " "), std::string::npos) << sized;
  const auto mtus = status()["data_plane"].value("tunnel_mtu", nlohmann::json::array());
  ASSERT_EQ(mtus.size(), 1u) << mtus.dump();
  EXPECT_EQ(mtus[0].value("device", ""), "ergw1");
  EXPECT_EQ(mtus[0].value("mtu", 0), c.tunnel_mtu);
  EXPECT_TRUE(mtus[0].value("negotiated", false)) << mtus.dump();
  const auto routes = appliance({"ip", "route", "show", "dev", "ergw1"});
  EXPECT_NE(routes.find("10.0.2.0/24"), std::string::npos) << routes;

  // charon programmed the kernel: the SAs with the negotiated algorithms,
  // bound to if_id 1, and no libipsec TUN on the appliance.
  const auto states = appliance({"ip", "xfrm", "state"});
  std::cerr << "ip xfrm state (keys not shown):\n" << xfrm_state_without_keys(states);
  EXPECT_NE(states.find(c.xfrm_algorithm), std::string::npos) << "negotiated algorithm missing from ip xfrm state";
  EXPECT_NE(states.find("if_id 0x1"), std::string::npos);
  EXPECT_NE(states.find("proto esp"), std::string::npos);
  const auto policies = appliance({"ip", "xfrm", "policy"});
  EXPECT_NE(policies.find("if_id 0x1"), std::string::npos) << policies;
  EXPECT_FALSE(lab_->lab().exec(lab::Node::appliance, {"ip", "link", "show", "ipsec0"}).ok())
      << "the appliance runs kernel-libipsec after all";

  // Traffic through ESP: the CHILD SA's counters (kernel XFRM state) move.
  const auto before = child_packets(status());
  ping_vnet(4);
  const auto after_ping = child_packets(status());
  EXPECT_GE(after_ping, before + 8) << "the CHILD SA's counters did not move: traffic bypassed ESP";

  iperf_between_hosts();
  EXPECT_GT(child_packets(status()), after_ping + 100) << "iperf3's packets did not go through the CHILD SA";
  const auto stats = appliance({"ip", "-s", "link", "show", "ergw1"});
  std::cerr << stats;
}

// BGP in kernel mode: the routes BIRD learns from Azure go into ergw's table
// toward the xfrm interface ergw<if_id>, not a TUN.
class KernelBgpTest : public KernelLabTest {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/sbin/bird")) GTEST_SKIP() << "needs BIRD 2 (/usr/sbin/bird)";
    skip_unless_kernel_esp();
  }
};

TEST_F(KernelBgpTest, LearnedRoutesPointIntoTheXfrmInterface) {
  nlohmann::json config;
  std::ifstream(std::filesystem::path(ERGW_SOURCE_DIR) / "examples/lab-bgp.json") >> config;
  config["appliance"]["dataPlane"] = "kernel";
  start(config, appliance_on_kernel_esp());
  ASSERT_TRUE(lab_);
  wait_until_up();
  ASSERT_FALSE(HasFailure());
  auto learned = lab_->wait_for(
      seconds(120),
      [](const nlohmann::json& st) {
        for (const auto& r : st["bgp"].value("routes", nlohmann::json::array())) {
          if (r.value("prefix", "") == "10.0.0.0/16" && r.value("installed", false)) return true;
        }
        return false;
      },
      "10.0.0.0/16 learned over BGP");
  ASSERT_TRUE(learned) << learned.error();
  auto st = status();
  std::cerr << cli::format_status(st);
  EXPECT_EQ(st["data_plane"].value("kind", ""), "kernel");
  const auto table = in_node(lab::Node::appliance, {"ip", "route", "show", "table", "1000"});
  // "10.0.0.0/16 via 10.0.1.30 dev ergw1 proto bird": an xfrm interface keeps the BGP next hop.
  EXPECT_TRUE(std::regex_search(table, std::regex("10\\.0\\.0\\.0/16 (via 10\\.0\\.1\\.30 )?dev ergw1 proto bird")))
      << table;
  const auto main_table = in_node(lab::Node::appliance, {"ip", "route", "show"});
  EXPECT_EQ(main_table.find("10.0.0.0/16"), std::string::npos) << main_table;
  EXPECT_EQ(main_table.find("10.0.2."), std::string::npos) << main_table;
  // Only the learned route can carry it: drop the Azure side's charon catch-all (table 220).
  while (lab_->lab().exec(lab::Node::azure_gw, {"ip", "rule", "del", "table", "220"}).ok()) {
  }
  const auto before = child_packets(status());
  ping_vnet(4);
  EXPECT_GE(child_packets(status()), before + 8) << "the CHILD SA's counters did not move: traffic bypassed ESP";
}

INSTANTIATE_TEST_SUITE_P(
    Kernel, KernelTunnelTest,
    ::testing::Values(KernelCase{"gcmaes256-ecp384", "auto", "rfc4106(gcm(aes))", "AES_GCM_16_256", 1438},
                      KernelCase{"aes256-sha256-dh14-pfs2048", "kernel", "hmac(sha256)", "AES_CBC_256", 1422}),
    [](const auto& param_info) {
      return std::string(param_info.param.golden).substr(0, 6) + "_" + param_info.param.data_plane;
    });

}  // namespace
}  // namespace ergw::kernel_tests
