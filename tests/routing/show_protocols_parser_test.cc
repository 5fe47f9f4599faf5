#include <gtest/gtest.h>

#include "routing/protocol_status.h"
#include "tests/routing/capture.h"

namespace ergw::routing {
namespace {

using testing::capture_reply;

ProtocolStatus only_protocol(const std::string& file) {
  auto protocols = parse_show_protocols(capture_reply(file));
  EXPECT_TRUE(protocols.ok()) << (protocols.ok() ? "" : protocols.error());
  if (!protocols.ok() || protocols->size() != 1) {
    ADD_FAILURE() << file << ": expected one protocol";
    return {};
  }
  return protocols->front();
}

TEST(ShowProtocols, EstablishedSession) {
  ProtocolStatus p = only_protocol("show_protocols_all_established.txt");
  EXPECT_EQ(p.name, "p1");
  EXPECT_EQ(p.protocol, "BGP");
  EXPECT_EQ(p.state, ProtocolState::kUp);
  EXPECT_EQ(p.since, "2026-11-22 07:04:02");
  ASSERT_TRUE(p.since_time);
  EXPECT_EQ(p.info, "Established");
  ASSERT_TRUE(p.bgp);
  EXPECT_EQ(p.bgp->state, BgpState::kEstablished);
  EXPECT_EQ(p.bgp->neighbor_address, IpAddress::parse("169.254.21.5"));
  EXPECT_EQ(p.bgp->neighbor_as, 65515u);
  EXPECT_EQ(p.bgp->local_as, 65010u);
  EXPECT_EQ(p.bgp->neighbor_id, IpAddress::parse("169.254.21.1"));
  EXPECT_EQ(p.bgp->source_address, IpAddress::parse("169.254.21.6"));
  EXPECT_EQ(p.bgp->session, "external multihop AS4");
  EXPECT_EQ(p.bgp->hold_time, 180);
  EXPECT_EQ(p.bgp->keepalive_time, 60);
  EXPECT_EQ(p.bgp->last_error, "");
  const ChannelStatus* ipv4 = p.channel("ipv4");
  ASSERT_NE(ipv4, nullptr);
  EXPECT_EQ(ipv4->state, "UP");
  EXPECT_EQ(ipv4->table, "master4");
  ASSERT_TRUE(ipv4->routes);
  EXPECT_EQ(ipv4->routes->imported, 1u);
  EXPECT_EQ(ipv4->routes->exported, 1u);
  EXPECT_EQ(ipv4->routes->preferred, 1u);
  EXPECT_EQ(ipv4->routes->filtered, 0u);
}

TEST(ShowProtocols, ConnectWithoutError) {
  // TCP MD5 mismatch: SYNs are dropped silently, BIRD sits in Connect.
  ProtocolStatus p = only_protocol("show_protocols_all_connect.txt");
  EXPECT_EQ(p.state, ProtocolState::kStart);
  ASSERT_TRUE(p.bgp);
  EXPECT_EQ(p.bgp->state, BgpState::kConnect);
  EXPECT_EQ(p.bgp->last_error, "");
  EXPECT_FALSE(p.bgp->hold_time);
  const ChannelStatus* ipv4 = p.channel("ipv4");
  ASSERT_NE(ipv4, nullptr);
  EXPECT_EQ(ipv4->state, "DOWN");
  EXPECT_FALSE(ipv4->routes);
  EXPECT_EQ(ipv4->import_limit, 4000u);
  EXPECT_EQ(ipv4->import_limit_action, "restart");
}

TEST(ShowProtocols, ActiveWithLastError) {
  ProtocolStatus p = only_protocol("show_protocols_all_active_last_error.txt");
  ASSERT_TRUE(p.bgp);
  EXPECT_EQ(p.bgp->state, BgpState::kActive);
  EXPECT_EQ(p.bgp->last_error, "Socket: Connection reset by peer");
  EXPECT_EQ(p.info, "Active        Socket: Connection reset by peer");
}

TEST(ShowProtocols, IdleAfterBadPeerAs) {
  ProtocolStatus p = only_protocol("show_protocols_all_idle_bad_peer_as.txt");
  ASSERT_TRUE(p.bgp);
  EXPECT_EQ(p.bgp->state, BgpState::kIdle);
  EXPECT_EQ(p.bgp->last_error, "Received: Bad peer AS");
  EXPECT_EQ(p.bgp->neighbor_address, IpAddress::parse("169.254.21.9"));
}

TEST(ShowProtocols, ListWithoutDetails) {
  auto protocols = parse_show_protocols(capture_reply("show_protocols.txt"));
  ASSERT_TRUE(protocols.ok());
  ASSERT_EQ(protocols->size(), 7u);
  EXPECT_EQ((*protocols)[0].name, "device1");
  EXPECT_EQ((*protocols)[0].protocol, "Device");
  EXPECT_EQ((*protocols)[0].info, "");
  EXPECT_EQ((*protocols)[3].protocol, "Kernel");
  EXPECT_EQ((*protocols)[3].table, "master4");
  EXPECT_EQ((*protocols)[4].name, "p0");
  EXPECT_EQ((*protocols)[4].state, ProtocolState::kStart);
  EXPECT_EQ((*protocols)[4].info, "Connect");
  EXPECT_EQ((*protocols)[5].state, ProtocolState::kUp);
  EXPECT_EQ((*protocols)[5].info, "Established");
  EXPECT_FALSE((*protocols)[5].bgp);  // only `show protocols all` has details
  EXPECT_EQ((*protocols)[6].info, "Idle          Received: Bad peer AS");
}

TEST(ShowProtocols, AllProtocolsWithDetails) {
  auto protocols = parse_show_protocols(capture_reply("show_protocols_all.txt"));
  ASSERT_TRUE(protocols.ok());
  ASSERT_EQ(protocols->size(), 7u);
  int bgp = 0;
  for (const auto& p : *protocols) {
    if (p.protocol == "BGP") {
      ++bgp;
      EXPECT_TRUE(p.bgp) << p.name;
    } else {
      EXPECT_FALSE(p.bgp) << p.name;  // "BGP state" belongs to BGP only
    }
  }
  EXPECT_EQ(bgp, 3);
  const ProtocolStatus& kernel = (*protocols)[3];
  EXPECT_EQ(kernel.protocol, "Kernel");
  ASSERT_NE(kernel.channel("ipv4"), nullptr);
  ASSERT_TRUE(kernel.channel("ipv4")->routes);
  EXPECT_EQ(kernel.channel("ipv4")->routes->exported, 4u);
}

TEST(ShowProtocols, NoMatchIsEmptyAndErrorsCarryBirdsMessage) {
  auto none = parse_show_protocols(capture_reply("no_protocols_match.txt"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto error = parse_show_protocols(capture_reply("parse_error.txt"));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.error().find("syntax error"), std::string::npos);
}

TEST(ShowStatus, VersionRouterIdAndClock) {
  auto status = parse_show_status(capture_reply("show_status.txt"));
  ASSERT_TRUE(status.ok()) << status.error();
  EXPECT_EQ(status->version, "BIRD 2.0.12");
  EXPECT_EQ(status->router_id, IpAddress::parse("169.254.21.2"));
  EXPECT_TRUE(status->server_time);
  EXPECT_TRUE(status->last_reboot);
  EXPECT_EQ(status->message, "Daemon is up and running");
}

TEST(ShowProtocols, ErrorWaitIsTheTimeLeftAndTheWholeWait) {
  ProtocolStatus p = only_protocol("show_protocols_all_idle_bad_peer_as.txt");
  ASSERT_TRUE(p.bgp);
  ASSERT_TRUE(p.bgp->error_wait_left);
  EXPECT_DOUBLE_EQ(*p.bgp->error_wait_left, 39.737);
  EXPECT_EQ(p.bgp->error_wait, 60);
  ProtocolStatus up = only_protocol("show_protocols_all_established.txt");
  ASSERT_TRUE(up.bgp);
  EXPECT_FALSE(up.bgp->error_wait_left);
  EXPECT_FALSE(up.bgp->error_wait);
}

TEST(ShowStatus, TimeInStateUsesBirdsOwnClock) {
  auto status = parse_show_status(capture_reply("show_status.txt"));
  ASSERT_TRUE(status.ok());
  ProtocolStatus p = only_protocol("show_protocols_all_established.txt");
  // Session up since 07:04:02; BIRD's clock said 07:05:04.093 in the same run.
  auto up = time_in_state(p, *status);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->count(), 62);
}

TEST(BirdTime, Formats) {
  EXPECT_TRUE(parse_bird_time("2026-11-22 07:04:02"));
  EXPECT_TRUE(parse_bird_time("2026-11-22 07:04:02.255"));
  EXPECT_TRUE(parse_bird_time("2026-11-22"));
  EXPECT_FALSE(parse_bird_time("07:04:02.255"));
  EXPECT_FALSE(parse_bird_time("2026-13-40 07:04:02"));
  EXPECT_FALSE(parse_bird_time("2026-11-22 7:4"));
  auto a = parse_bird_time("2026-11-22 23:59:59");
  auto b = parse_bird_time("2026-11-23 00:00:01");
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*b - *a).count(), 2);
}

TEST(BgpStateNames, RoundTrip) {
  for (auto s : {BgpState::kIdle, BgpState::kConnect, BgpState::kActive, BgpState::kOpenSent, BgpState::kOpenConfirm,
                 BgpState::kEstablished}) {
    EXPECT_EQ(parse_bgp_state(to_string(s)), s);
  }
  EXPECT_EQ(parse_bgp_state("Nonsense"), BgpState::kUnknown);
}

}  // namespace
}  // namespace ergw::routing
