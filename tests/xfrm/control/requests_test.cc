#include "xfrm/control/requests.h"

#include <gtest/gtest.h>

#include <string>

namespace ergw::xfrm::control {
namespace {

MessageWriter add_sa_base(bool inbound, uint8_t proto = 50) {
  MessageWriter w(ERGW_IPSEC_MSG_ADD_SA, 1);
  w.u8(ERGW_IPSEC_ATTR_REPLAY, 0)
      .u8(ERGW_IPSEC_ATTR_PROTO, proto)
      .u32(ERGW_IPSEC_ATTR_SPI, 0xc0000001)
      .address(ERGW_IPSEC_ATTR_SRC, *IpAddress::parse(inbound ? "172.16.0.2" : "172.16.0.1"))
      .address(ERGW_IPSEC_ATTR_DST, *IpAddress::parse(inbound ? "172.16.0.1" : "172.16.0.2"))
      .u32(ERGW_IPSEC_ATTR_REQID, 7)
      .u8(ERGW_IPSEC_ATTR_INBOUND, inbound ? 1 : 0)
      .u32(ERGW_IPSEC_ATTR_REPLAY_WINDOW, 1024);
  return w;
}

Result<AddSaRequest> decode(std::vector<uint8_t> bytes) {
  auto m = MessageReader::parse(bytes);
  if (!m.ok()) return Error{m.error()};
  return decode_add_sa(*m);
}

TEST(ControlRequests, AddSaGcmInboundOverUdp) {
  std::vector<uint8_t> keymat(36, 0x11);
  auto r = decode(add_sa_base(true)
                      .u8(ERGW_IPSEC_ATTR_ENCAP, 1)
                      .u16(ERGW_IPSEC_ATTR_SRC_PORT, 4501)
                      .u16(ERGW_IPSEC_ATTR_DST_PORT, 4500)
                      .u16(ERGW_IPSEC_ATTR_ENC_ALG, ERGW_IPSEC_ENCR_AES_GCM_16)
                      .bytes(ERGW_IPSEC_ATTR_ENC_KEY, keymat)
                      .u64x3(ERGW_IPSEC_ATTR_LIFETIME_SOFT, {0, 0, 3000})
                      .u64x3(ERGW_IPSEC_ATTR_LIFETIME_HARD, {0, 0, 3600})
                      .finish());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->config.direction, esp::Direction::inbound);
  EXPECT_EQ(r->config.local.to_string(), "172.16.0.1");   // inbound: dst is ours
  EXPECT_EQ(r->config.remote.to_string(), "172.16.0.2");
  EXPECT_EQ(r->config.encapsulation, esp::Encapsulation::udp);
  EXPECT_EQ(r->config.udp_local_port, 4500);
  EXPECT_EQ(r->config.udp_remote_port, 4501);  // the peer's port as it sends
  EXPECT_EQ(r->config.algorithm.key_bits, 256);
  EXPECT_EQ(r->config.encryption_key.size(), 32u);
  EXPECT_EQ(r->config.lifetime.soft.seconds, 3000u);
  EXPECT_EQ(r->config.replay_window, 1024u);
  EXPECT_EQ(r->reqid, 7u);
}

// Protocol version 2: a replayed ADD_SA carries the counters the plugin
// last gave charon; a fresh one cannot.
TEST(ControlRequests, ReplayedAddSaCarriesTheLastReportedCounters) {
  std::vector<uint8_t> keymat(20, 0x11);
  auto message = add_sa_base(false)
                     .u16(ERGW_IPSEC_ATTR_ENC_ALG, ERGW_IPSEC_ENCR_AES_GCM_16)
                     .bytes(ERGW_IPSEC_ATTR_ENC_KEY, keymat)
                     .u64(ERGW_IPSEC_ATTR_BYTES, 123456789012ULL)
                     .u64(ERGW_IPSEC_ATTR_PACKETS, 98765)
                     .finish();
  auto fresh = decode(message);
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.error().find("bytes, packets: only a replayed ADD_SA"), std::string::npos) << fresh.error();
  message[ERGW_IPSEC_HEADER_BYTES + ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES] = 1;  // REPLAY comes first: set it
  auto replayed = decode(message);
  ASSERT_TRUE(replayed.ok()) << replayed.error();
  EXPECT_TRUE(replayed->replay);
  EXPECT_EQ(replayed->reported_bytes, 123456789012ULL);
  EXPECT_EQ(replayed->reported_packets, 98765U);
  auto plain = decode(add_sa_base(false)
                          .u16(ERGW_IPSEC_ATTR_ENC_ALG, ERGW_IPSEC_ENCR_AES_GCM_16)
                          .bytes(ERGW_IPSEC_ATTR_ENC_KEY, keymat)
                          .finish());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->reported_bytes, 0U);
  EXPECT_EQ(plain->reported_packets, 0U);
}

TEST(ControlRequests, AddSaCbcOutboundRawEsp) {
  auto r = decode(add_sa_base(false)
                      .u16(ERGW_IPSEC_ATTR_ENC_ALG, ERGW_IPSEC_ENCR_AES_CBC)
                      .bytes(ERGW_IPSEC_ATTR_ENC_KEY, std::vector<uint8_t>(16, 1))
                      .u16(ERGW_IPSEC_ATTR_INT_ALG, ERGW_IPSEC_AUTH_HMAC_SHA2_256_128)
                      .bytes(ERGW_IPSEC_ATTR_INT_KEY, std::vector<uint8_t>(32, 2))
                      .finish());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->config.direction, esp::Direction::outbound);
  EXPECT_EQ(r->config.encapsulation, esp::Encapsulation::raw_esp);
  EXPECT_EQ(esp::to_string(r->config.algorithm), "aes128-sha256");
  EXPECT_EQ(r->config.replay_window, 0u);  // outbound: no window
}

TEST(ControlRequests, SoftLifetimeAboveHardIsClampedLikeTheKernel) {
  auto r = decode(add_sa_base(true)
                      .u16(ERGW_IPSEC_ATTR_ENC_ALG, ERGW_IPSEC_ENCR_AES_GCM_16)
                      .bytes(ERGW_IPSEC_ATTR_ENC_KEY, std::vector<uint8_t>(20, 1))
                      .u64x3(ERGW_IPSEC_ATTR_LIFETIME_SOFT, {900, 0, 99999})
                      .u64x3(ERGW_IPSEC_ATTR_LIFETIME_HARD, {1000, 0, 30})
                      .finish());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->config.lifetime.soft.seconds, 30u);
  EXPECT_EQ(r->config.lifetime.soft.bytes, 900u);
}

TEST(ControlRequests, ErrorsNameTheFieldAndNeverTheKey) {
  const std::vector<uint8_t> key(32, 0xab);
  struct Case {
    MessageWriter writer;
    std::string expected;
  };
  std::vector<Case> cases;
  cases.push_back({add_sa_base(true).u16(ERGW_IPSEC_ATTR_ENC_ALG, 3).bytes(ERGW_IPSEC_ATTR_ENC_KEY, key),
                   "enc_alg: 3 is not carried; allowed: 20 (AES-GCM-16), 12 (AES-CBC)"});
  cases.push_back({add_sa_base(true).u16(ERGW_IPSEC_ATTR_ENC_ALG, 20).bytes(ERGW_IPSEC_ATTR_ENC_KEY, key),
                   "enc_key: AES-GCM needs 20, 28 or 36 octets (key + 4-octet salt), got 32"});
  cases.push_back({add_sa_base(true)
                       .u16(ERGW_IPSEC_ATTR_ENC_ALG, 12)
                       .bytes(ERGW_IPSEC_ATTR_ENC_KEY, key)
                       .u16(ERGW_IPSEC_ATTR_INT_ALG, 1),
                   "int_alg: 1 is not carried with AES-CBC"});
  cases.push_back({add_sa_base(true)
                       .u16(ERGW_IPSEC_ATTR_ENC_ALG, 12)
                       .bytes(ERGW_IPSEC_ATTR_ENC_KEY, key)
                       .u16(ERGW_IPSEC_ATTR_INT_ALG, 12)
                       .bytes(ERGW_IPSEC_ATTR_INT_KEY, key)
                       .u8(ERGW_IPSEC_ATTR_MODE, 1),
                   "mode: only 2 (tunnel) is carried, got 1"});
  cases.push_back({add_sa_base(true, 51), "proto: only 50 (ESP) is carried, got 51"});
  cases.push_back({add_sa_base(true), "enc_alg: required"});
  for (auto& c : cases) {
    auto r = decode(c.writer.finish());
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_NE(r.error().find(c.expected), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find("ab"), std::string::npos) << "key bytes in: " << r.error();
  }
}

TEST(ControlRequests, PolicyNeedsOneSelectorEachAndAReqid) {
  auto base = [] {
    MessageWriter w(ERGW_IPSEC_MSG_ADD_POLICY, 1);
    w.u8(ERGW_IPSEC_ATTR_DIRECTION, 1)
        .selector(ERGW_IPSEC_ATTR_SRC_TS, {0, *IpPrefix::parse("192.168.10.0/24"), 0, 65535})
        .selector(ERGW_IPSEC_ATTR_DST_TS, {0, *IpPrefix::parse("10.0.2.0/24"), 0, 65535});
    return w;
  };
  // The reader views the bytes: keep them alive while it is used.
  const auto ok_bytes = base().u32(ERGW_IPSEC_ATTR_REQID, 3).finish();
  auto ok = MessageReader::parse(ok_bytes);
  auto r = decode_policy(*ok, true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->direction, PolicyDirection::out);
  EXPECT_EQ(r->dst_ts.prefix.to_string(), "10.0.2.0/24");
  const auto no_reqid_bytes = base().finish();
  auto no_reqid = MessageReader::parse(no_reqid_bytes);
  EXPECT_EQ(decode_policy(*no_reqid, true).error(), "reqid: required for an ipsec policy");
  EXPECT_TRUE(decode_policy(*no_reqid, false).ok());  // deleting needs no reqid
  const auto two_bytes =
      base().selector(ERGW_IPSEC_ATTR_DST_TS, {0, *IpPrefix::parse("10.0.3.0/24"), 0, 65535}).finish();
  auto two = MessageReader::parse(two_bytes);
  EXPECT_EQ(decode_policy(*two, true).error(), "dst_ts: exactly one required, got 2");
}

}  // namespace
}  // namespace ergw::xfrm::control
