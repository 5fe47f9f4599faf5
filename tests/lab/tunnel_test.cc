// Two charons (appliance and azure-gw) with the hand-written PSK baseline
// (IKEv2, aes256-sha256-modp2048, ESP aes256gcm16, 0.0.0.0/0 both ways, the
// appliance initiating) over kernel-libipsec: traffic end to end, and the
// supervisor bringing a killed charon back.
#include <signal.h>

#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "lab/demo_tunnel.h"
#include "lab/lab.h"
#include "lab/traffic.h"
#include "tests/lab/lab_fixture.h"

namespace ergw::lab {
namespace {

using namespace std::chrono_literals;
using testing::lab_unavailable;
using testing::test_progress;

// Packets that left through ipsec0 in a node (the TUN kernel-libipsec reads).
long long tun_tx_packets(Lab& lab, Node node) {
  const auto r = lab.exec(node, {"ip", "-s", "-j", "link", "show", "dev", kLibipsecTun});
  if (!r.ok()) return -1;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || j.empty()) return -1;
  return j[0]["stats64"]["tx"]["packets"].get<long long>();
}

class LabTunnel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = lab_unavailable(/*need_charon=*/true)) GTEST_SKIP() << *why;
    LabConfig config;
    config.progress = test_progress();
    auto created = Lab::create(config);
    ASSERT_TRUE(created.ok()) << created.error();
    lab_ = std::move(created.value());
    const Status up = bring_up_demo_tunnel(*lab_);
    ASSERT_TRUE(up.ok()) << up.error();
  }

  Result<PingResult> ping_vnet(int count = 5) {
    return ping(lab_->netns(Node::onprem), lab_->address(Node::vnet), {count, 100ms, 2s});
  }

  std::unique_ptr<Lab> lab_;
};

TEST_F(LabTunnel, SaMatchesTheBaselineProposal) {
  auto sas = lab_->charon(Node::appliance)->list_sas();
  ASSERT_TRUE(sas.ok()) << sas.error();
  std::cout << sas.value();
  EXPECT_NE(sas->find("ESTABLISHED, IKEv2"), std::string::npos);
  EXPECT_NE(sas->find("AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"), std::string::npos);
  // kernel-libipsec always encapsulates ESP in UDP/4500.
  EXPECT_NE(sas->find("INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256"), std::string::npos);
  const auto routes = lab_->exec(Node::appliance, {"ip", "route", "show", "dev", kLibipsecTun});
  EXPECT_NE(routes.out.find(lab_->addresses().vnet_prefix), std::string::npos) << routes.out;
}

TEST_F(LabTunnel, PingAndIperfCrossTheTunnel) {
  const long long tx_before = tun_tx_packets(*lab_, Node::appliance);
  auto p = ping_vnet(5);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->received, 5) << "onprem-host -> vnet-host through the tunnel";
  // The packets really went through ipsec0 (the appliance has no other way to the VNet).
  EXPECT_GE(tun_tx_packets(*lab_, Node::appliance) - tx_before, 5);

  auto iperf = iperf3(lab_->netns(Node::vnet), lab_->address(Node::vnet), lab_->netns(Node::onprem),
                      lab_->state_dir(), {3s});
  ASSERT_TRUE(iperf.ok()) << iperf.error();
  std::cout << "iperf3 onprem-host -> vnet-host over kernel-libipsec: "
            << iperf->received_bits_per_second / 1e6 << " Mbit/s received, " << iperf->sent_bits_per_second / 1e6
            << " Mbit/s sent, " << iperf->retransmits << " retransmits, " << iperf->seconds << " s" << std::endl;
  EXPECT_GT(iperf->received_bits_per_second, 0);
  EXPECT_GT(iperf->bytes_received, 0);
}

TEST_F(LabTunnel, ContinuousPingReportsWhatItSaw) {
  ContinuousPing background(lab_->netns(Node::onprem), lab_->address(Node::vnet), lab_->state_dir() / "cping.log",
                            50ms);
  ASSERT_TRUE(background.start().ok());
  std::this_thread::sleep_for(2s);
  auto report = background.stop();
  ASSERT_TRUE(report.ok()) << report.error();
  std::cout << "continuous ping: " << report->transmitted << " sent, " << report->received << " received, "
            << report->lost << " lost" << std::endl;
  EXPECT_GT(report->transmitted, 10);
  EXPECT_GT(report->received, 10);
  EXPECT_LE(report->received, report->transmitted);
}

TEST_F(LabTunnel, SupervisorRestartsKilledCharonAndTunnelReturns) {
  auto before = ping_vnet(3);
  ASSERT_TRUE(before.ok()) << before.error();
  ASSERT_EQ(before->received, 3);

  CharonInstance* appliance = lab_->charon(Node::appliance);
  auto killed = lab_->supervisor().kill_daemon(appliance->daemon_name(), SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed.error();
  const auto restarted = lab_->supervisor().wait_for_restart(appliance->daemon_name(), killed.value(), 15s);
  ASSERT_TRUE(restarted.has_value()) << "charon was not restarted";
  EXPECT_NE(*restarted, killed.value());
  EXPECT_EQ(lab_->supervisor().restarts(appliance->daemon_name()), 1);
  ASSERT_TRUE(appliance->wait_ready().ok());
  // The owner record follows the new pid.
  auto record = read_owner_record(lab_->state_dir());
  ASSERT_TRUE(record.ok()) << record.error();
  bool recorded = false;
  for (const auto& d : record->daemons) recorded |= (d.name == appliance->daemon_name() && d.pid == *restarted);
  EXPECT_TRUE(recorded);

  // A fresh charon has no configuration and no SA: the tunnel is down.
  auto during = ping_vnet(2);
  ASSERT_TRUE(during.ok()) << during.error();
  EXPECT_EQ(during->received, 0);

  const Status again = reestablish_demo_tunnel(*lab_);
  ASSERT_TRUE(again.ok()) << again.error();
  auto after = ping_vnet(5);
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after->received, 5);
}

}  // namespace
}  // namespace ergw::lab
