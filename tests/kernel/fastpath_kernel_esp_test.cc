// The fast path against Linux's own ESP: the appliance runs on the fast path
// (ergwd with dataPlane "fastpath" supervises ergw-fastpath; charon hands it
// the SAs through the ergw-ipsec plugin) and the simulated Azure gateway's
// charon programs kernel ESP through kernel-netlink, configured by the lab's
// own model of Azure (lab/azure), never by ergw's compiler. Its CHILD SAs are
// bound to an xfrm interface, as Azure's gateway is route-based. Neither side
// is behind NAT, so ESP travels raw (IP protocol 50), as Azure's does over
// ExpressRoute private peering.
//
// Each case checks ping and TCP both ways through the tunnel, that the fast
// path counted the traffic (ergw status), and that the peer kernel's XFRM
// states carried it (`ip -s xfrm state`: bytes and packets up, no integrity
// failure).
//
// Needs a kernel with ESP, AES-GCM and xfrm interfaces: the build machine's
// has none, so tests/kernel/run-in-vm runs this binary in Debian's kernel
// under qemu (ctest `kernel.fastpath`). Elsewhere every test skips and says why.
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/kernel/kernel_lab_test.h"
#include "tests/kernel/xfrm_state_text.h"

namespace ergw::kernel_tests {
namespace {

using std::chrono::seconds;

struct FastpathKernelCase {
  const char* golden;                        // a golden configuration (route-based, if_id 1)
  std::vector<std::string> xfrm_algorithms;  // what the peer's `ip xfrm state` must show
  const char* child_encryption;              // what ergw status shows for the CHILD SA
  bool needs_gcm;
};

void PrintTo(const FastpathKernelCase& c, std::ostream* os) { *os << c.golden; }

class FastpathKernelEspTest : public KernelLabTest, public ::testing::WithParamInterface<FastpathKernelCase> {
 protected:
  void SetUp() override {
    skip_unless_kernel_esp(GetParam().needs_gcm);
    if (IsSkipped()) return;
    if (!std::filesystem::exists(std::filesystem::path(ERGW_PLUGIN_DIR) / "libstrongswan-ergw-ipsec.so")) {
      GTEST_SKIP() << "the ergw-ipsec plugin was not built (tools/strongswan-source, then ergw-ipsec-plugin)";
    }
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      std::cerr << "---- the peer kernel's XFRM statistics\n"
                << lab_->lab().exec(lab::Node::azure_gw, {"cat", "/proc/net/xfrm_stat"}).out;
    }
    KernelLabTest::TearDown();
  }

  // The appliance on the fast path, the Azure side on kernel ESP.
  static azure_lab::AzureLabOptions fastpath_against_kernel_esp() {
    azure_lab::AzureLabOptions options;
    options.appliance_backend = lab::CharonBackend::ergw_ipsec;
    options.azure_backend = lab::CharonBackend::kernel_esp;
    return options;
  }

  nlohmann::json fastpath_counters() { return status()["connections"][0].value("fastpath", nlohmann::json::object()); }
  static uint64_t fastpath_packets(const nlohmann::json& c) {
    return c.value("packets_in", 0ull) + c.value("packets_out", 0ull);
  }

  // The peer kernel's ESP counters: into Azure (what the fast path sent) and
  // out of it (what the fast path received).
  struct PeerEsp {
    XfrmStateCounters in;
    XfrmStateCounters out;
  };
  PeerEsp peer_esp() {
    const auto states = parse_xfrm_state_counters(in_node(lab::Node::azure_gw, {"ip", "-s", "xfrm", "state"}));
    const auto appliance = lab_->lab().address(lab::Node::appliance);
    const auto azure = lab_->lab().address(lab::Node::azure_gw);
    return {sum_xfrm_states(states, appliance, azure), sum_xfrm_states(states, azure, appliance)};
  }

  // The fast path's STATUS reaches ergw status once a second.
  void expect_fastpath_counted(uint64_t before, uint64_t at_least, const std::string& what) {
    auto counted = lab_->wait_for(
        seconds(10),
        [&](const nlohmann::json& s) {
          return fastpath_packets(s["connections"][0].value("fastpath", nlohmann::json::object())) >=
                 before + at_least;
        },
        "the fast path's counters in ergw status to show " + what);
    EXPECT_TRUE(counted) << counted.error();
  }
};

TEST_P(FastpathKernelEspTest, PingAndTcpBetweenFastpathAndKernelEsp) {
  const auto& c = GetParam();
  auto s = bring_up(c.golden, "fastpath", fastpath_against_kernel_esp());
  ASSERT_FALSE(HasFailure());

  // The appliance is on the fast path: ergwd chose it, it is ready, and the
  // appliance's kernel holds no SA (charon's kernel-netlink is only its
  // kernel-net there).
  ASSERT_EQ(s["data_plane"].value("kind", ""), "fastpath") << s["data_plane"].dump();
  EXPECT_EQ(s["fastpath"].value("state", ""), "ready") << s["fastpath"].dump();
  EXPECT_EQ(s["connections"][0]["children"][0].value("encryption", ""), c.child_encryption);
  EXPECT_EQ(in_node(lab::Node::appliance, {"ip", "xfrm", "state"}), "") << "the appliance's kernel carries ESP";

  // The peer is the kernel: its SAs with the negotiated algorithms, bound to
  // its xfrm interface, raw ESP (no encap line: no UDP encapsulation).
  const auto states = in_node(lab::Node::azure_gw, {"ip", "xfrm", "state"});
  std::cerr << "the Azure side's ip xfrm state (keys not shown):\n" << xfrm_state_without_keys(states);
  for (const auto& algorithm : c.xfrm_algorithms) {
    EXPECT_NE(states.find(algorithm), std::string::npos) << algorithm << " missing from the peer's ip xfrm state";
  }
  EXPECT_NE(states.find("proto esp"), std::string::npos);
  EXPECT_NE(states.find("if_id 0x1"), std::string::npos);
  EXPECT_EQ(states.find("encap"), std::string::npos) << "ESP is UDP-encapsulated; the lab has no NAT";
  const auto device = lab_->azure_tunnel_device();
  const auto link = in_node(lab::Node::azure_gw, {"ip", "-d", "link", "show", device});
  EXPECT_NE(link.find("xfrm if_id 0x1"), std::string::npos) << link;

  // Ping: the fast path and the peer's kernel both carried it.
  const auto esp_before = peer_esp();
  const auto fastpath_before = fastpath_packets(fastpath_counters());
  ping_vnet(4);
  const auto esp_after_ping = peer_esp();
  EXPECT_GE(esp_after_ping.in.packets, esp_before.in.packets + 4) << "the peer's kernel decrypted no echo request";
  EXPECT_GE(esp_after_ping.out.packets, esp_before.out.packets + 4) << "the peer's kernel encrypted no echo reply";
  expect_fastpath_counted(fastpath_before, 8, "the pings");

  // TCP each way: the peer kernel's SA in that direction carried at least
  // every byte the receiver got (its counters include the inner headers).
  const auto fastpath_before_tcp = fastpath_packets(fastpath_counters());
  const auto to_vnet = iperf_between_hosts(/*reverse=*/false);
  const auto esp_after_to_vnet = peer_esp();
  EXPECT_GE(esp_after_to_vnet.in.bytes, esp_after_ping.in.bytes + static_cast<uint64_t>(to_vnet))
      << "the peer's kernel decrypted fewer bytes than vnet-host received";
  const auto to_onprem = iperf_between_hosts(/*reverse=*/true);
  const auto esp_after = peer_esp();
  EXPECT_GE(esp_after.out.bytes, esp_after_to_vnet.out.bytes + static_cast<uint64_t>(to_onprem))
      << "the peer's kernel encrypted fewer bytes than onprem-host received";
  expect_fastpath_counted(fastpath_before_tcp, 200, "the TCP transfers");

  // Nothing failed integrity on either side.
  EXPECT_EQ(esp_after.in.failed, 0u) << "the peer's kernel rejected ESP from the fast path";
  const auto counters = fastpath_counters();
  std::cerr << "the fast path's counters: " << counters.dump() << "\n";
  const auto drops = counters.value("drops", nlohmann::json::object());
  for (const char* reason : {"icv_mismatch", "wrong_encap", "inner_selector", "no_inbound_policy"}) {
    EXPECT_EQ(drops.value(reason, 0ull), 0u) << "the fast path dropped the kernel's ESP: " << reason;
  }
  std::cerr << "the Azure side's ip -s xfrm state after the traffic (keys not shown):\n"
            << xfrm_state_without_keys(in_node(lab::Node::azure_gw, {"ip", "-s", "xfrm", "state"}));
}

// AES-GCM, and AES-CBC with HMAC-SHA-256: both run in one VM (ctest kernel.fastpath).
INSTANTIATE_TEST_SUITE_P(
    Kernel, FastpathKernelEspTest,
    ::testing::Values(FastpathKernelCase{"gcmaes256-ecp384", {"rfc4106(gcm(aes))"}, "AES_GCM_16_256", true},
                      FastpathKernelCase{"aes256-sha256-dh14-pfs2048", {"cbc(aes)", "hmac(sha256)"}, "AES_CBC_256",
                                         false}),
    [](const auto& param_info) { return std::string(param_info.param.golden).substr(0, 6); });

}  // namespace
}  // namespace ergw::kernel_tests
