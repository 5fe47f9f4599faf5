// The tunnel devices' MTU: ESP's overhead per algorithm (the numbers
// docs/ergwd.md "Tunnel MTU" shows), from negotiated SAs and from proposals,
// and which device gets which size on each data plane.
#include <gtest/gtest.h>

#include "gateway/ergwd/esp_overhead.h"
#include "gateway/ergwd/tunnel_mtu.h"

namespace ergw::gateway {
namespace {

int inner(std::string_view proposal, bool udp, int mtu = 1500, bool ipv6 = false) {
  const auto t = transform_of_proposal(proposal);
  EXPECT_TRUE(t) << proposal;
  return t ? max_inner_packet(*t, EspPath{mtu, ipv6, udp}) : 0;
}

// By hand (RFC 4303, RFC 3948): 1500 - outer 20 - UDP 8 - SPI/seq 8 - IV - ICV,
// down to the block, minus pad length and next header.
TEST(EspOverhead, PerAlgorithmOverA1500BytePath) {
  // AES-CBC + HMAC-SHA2-256-128: 1500-20-8-8-16-16 = 1432 -> 1424 -> 1422.
  EXPECT_EQ(inner("aes256-sha256", true), 1422);
  EXPECT_EQ(inner("aes256-sha256", false), 1438);  // 1440 -> 1440 -> 1438
  // HMAC-SHA1-96 and HMAC-MD5-96 (12): 1436 -> 1424 -> 1422; raw 1444 -> 1440 -> 1438.
  EXPECT_EQ(inner("aes256-sha1", true), 1422);
  EXPECT_EQ(inner("aes128-md5", false), 1438);
  // AES-GCM-16 (IV 8, ICV 16, 4-byte alignment): 1440 -> 1438; raw 1448 -> 1446.
  EXPECT_EQ(inner("aes256gcm16", true), 1438);
  EXPECT_EQ(inner("aes128gcm16-modp2048", false), 1446);
  // 3DES (block and IV 8): SHA1 1500-20-8-8-8-12 = 1444 -> 1440 -> 1438; SHA256 1440 -> 1438.
  EXPECT_EQ(inner("3des-sha1-modp1024", true), 1438);
  EXPECT_EQ(inner("3des-sha256", true), 1438);
  // NULL encryption (no IV, 4-byte alignment) + SHA256: 1448 -> 1446.
  EXPECT_EQ(inner("null-sha256", true), 1446);
  EXPECT_EQ(inner("null-sha256", false), 1454);
  EXPECT_EQ(inner("3des-sha1", false), 1446);
  // Outer IPv6: 20 bytes more (docs/ergwd.md's last column).
  EXPECT_EQ(inner("aes256-sha256", true, 1500, true), 1406);
  EXPECT_EQ(inner("aes128-sha1", true, 1500, true), 1406);
  EXPECT_EQ(inner("aes256gcm16", true, 1500, true), 1418);
  EXPECT_EQ(inner("3des-sha256", true, 1500, true), 1414);
  EXPECT_EQ(inner("3des-sha1", true, 1500, true), 1422);
  EXPECT_EQ(inner("null-sha256", true, 1500, true), 1426);
  // Azure's advice of an MTU of 1400 is safe for every one of them.
  for (const char* p : {"aes256-sha256", "aes256-sha1", "aes256gcm16", "3des-sha256", "aes128-sha1"}) {
    EXPECT_GE(inner(p, true), 1400) << p;
  }
}

TEST(EspOverhead, TheEspPacketFitsAndOneByteMoreWouldNot) {
  for (const char* p : {"aes256-sha256", "aes128-sha1", "aes256gcm16", "3des-md5", "null-sha1"}) {
    for (bool udp : {false, true}) {
      const auto t = *transform_of_proposal(p);
      const EspPath path{1500, false, udp};
      const int m = max_inner_packet(t, path);
      const int block = std::max(t.block_bytes, 4);
      auto wire = [&](int inner_size) {
        const int padded = (inner_size + 2 + block - 1) / block * block;
        return 20 + (udp ? 8 : 0) + 8 + t.iv_bytes + padded + t.icv_bytes;
      };
      EXPECT_LE(wire(m), 1500) << p;
      EXPECT_GT(wire(m + 1), 1500) << p;
      EXPECT_EQ(esp_overhead(t, path), 1500 - m);
    }
  }
}

TEST(EspOverhead, CharonsNamesOfEstablishedSas) {
  auto cbc = transform_of_sa("AES_CBC", 256, "HMAC_SHA2_256_128");
  ASSERT_TRUE(cbc);
  EXPECT_EQ(cbc->name, "AES_CBC_256/HMAC_SHA2_256_128");
  EXPECT_EQ(max_inner_packet(*cbc, EspPath{1500, false, true}), 1422);
  auto gcm = transform_of_sa("AES_GCM_16", 256, "");
  ASSERT_TRUE(gcm);
  EXPECT_EQ(max_inner_packet(*gcm, EspPath{1500, false, true}), 1438);
  auto sha384 = transform_of_sa("AES_CBC", 128, "HMAC_SHA2_384_192");
  ASSERT_TRUE(sha384);
  EXPECT_EQ(sha384->icv_bytes, 24);
  EXPECT_FALSE(transform_of_sa("CHACHA20_POLY1305", 256, ""));
  EXPECT_FALSE(transform_of_sa("AES_CBC", 256, ""));  // CBC without integrity is not ESP ergw makes
  EXPECT_FALSE(transform_of_proposal("camellia256-sha256"));
  EXPECT_FALSE(transform_of_proposal("aes256"));
}

ConnectionPlan plan(const std::string& name, uint32_t if_id, std::vector<std::string> proposals) {
  ConnectionPlan p;
  p.name = name;
  p.if_id = if_id;
  p.remote = "172.16.0.2";
  p.children = {name};
  vici::List list(proposals.begin(), proposals.end());
  p.conn.section("children").section(name).set_list("esp_proposals", list);
  return p;
}

vici::IkeSaInfo sa(const std::string& name, std::string encr, uint32_t keysize, std::string integ, bool encap) {
  vici::IkeSaInfo ike;
  ike.name = name;
  ike.state = vici::IkeSaState::established;
  ike.remote_host = "172.16.0.2";
  vici::ChildSaInfo child;
  child.name = name;
  child.state = vici::ChildSaState::installed;
  child.encr_alg = std::move(encr);
  child.encr_keysize = keysize;
  child.integ_alg = std::move(integ);
  child.encap = encap;
  ike.child_sas.push_back(child);
  return ike;
}

TEST(TunnelMtu, ProposalsUntilNegotiatedThenTheSa) {
  // Azure's default offers: the worst of them (AES-CBC with HMAC in UDP).
  const std::vector<ConnectionPlan> plans = {
      plan("hub", 0, {"aes256gcm16", "aes256-sha1", "3des-sha1", "aes256-sha256", "aes128-sha1", "3des-sha256"})};
  auto before = plan_tunnel_mtus(DataPlaneKind::fastpath, plans, {});
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].device, "ergwfp0");
  EXPECT_EQ(before[0].mtu, 1422);
  EXPECT_FALSE(before[0].negotiated);
  auto after = plan_tunnel_mtus(DataPlaneKind::fastpath, plans, {sa("hub", "AES_GCM_16", 256, "", true)});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].mtu, 1438);
  EXPECT_TRUE(after[0].negotiated);
  EXPECT_NE(after[0].why.find("AES_GCM_16_256 in UDP over IPv4, negotiated: 62 bytes"), std::string::npos)
      << after[0].why;
  // An SA of another connection, or one not installed, does not count.
  auto other = sa("spoke", "AES_GCM_16", 256, "", false);
  auto rekeying = sa("hub", "AES_GCM_16", 256, "", false);
  rekeying.child_sas[0].state = vici::ChildSaState::installing;
  EXPECT_EQ(plan_tunnel_mtus(DataPlaneKind::fastpath, plans, {other, rekeying})[0].mtu, 1422);
}

TEST(TunnelMtu, LibipsecsTunIsNeverRaisedAbove1400) {
  // kernel-libipsec 5.9.8 reads ipsec0 with a 1400-byte buffer.
  const std::vector<ConnectionPlan> plans = {plan("hub", 0, {"aes256gcm16"})};
  auto gcm = plan_tunnel_mtus(DataPlaneKind::libipsec, plans, {sa("hub", "AES_GCM_16", 256, "", true)});
  ASSERT_EQ(gcm.size(), 1u);
  EXPECT_EQ(gcm[0].device, "ipsec0");
  EXPECT_EQ(gcm[0].mtu, 1400);
  EXPECT_NE(gcm[0].why.find("1438 would fit, but kernel-libipsec reads ipsec0 with a 1400-byte buffer"),
            std::string::npos)
      << gcm[0].why;
  // Lowered when the ESP needs more room: SHA2-512 (ICV 32) over IPv6 in UDP.
  auto big = plan("hub", 0, {"aes256-sha512"});
  big.remote = "fd00::2";
  EXPECT_EQ(plan_tunnel_mtus(DataPlaneKind::libipsec, {big}, {})[0].mtu, 1390);
}

TEST(TunnelMtu, SharedDevicesTakeTheSmallestAndXfrmInterfacesTheirOwn) {
  const std::vector<ConnectionPlan> plans = {plan("hub", 7, {"aes256gcm16"}), plan("spoke", 8, {"aes256-sha256"}),
                                             plan("policy", 0, {"aes128-sha1"})};
  const std::vector<vici::IkeSaInfo> sas = {sa("hub", "AES_GCM_16", 256, "", false),
                                            sa("spoke", "AES_CBC", 256, "HMAC_SHA2_256_128", false)};
  auto fastpath = plan_tunnel_mtus(DataPlaneKind::fastpath, plans, sas);
  ASSERT_EQ(fastpath.size(), 1u);
  EXPECT_EQ(fastpath[0].device, "ergwfp0");
  EXPECT_EQ(fastpath[0].mtu, 1422) << "the policy-based connection's proposal in UDP (nothing negotiated)";
  EXPECT_EQ(fastpath[0].connection, "policy");
  auto kernel = plan_tunnel_mtus(DataPlaneKind::kernel, plans, sas);
  ASSERT_EQ(kernel.size(), 2u) << "a policy-based connection has no xfrm interface";
  EXPECT_EQ(kernel[0].device, "ergw7");
  EXPECT_EQ(kernel[0].mtu, 1446);
  EXPECT_EQ(kernel[1].device, "ergw8");
  EXPECT_EQ(kernel[1].mtu, 1438);
  // A jumbo underlay gives room accordingly.
  EXPECT_EQ(plan_tunnel_mtus(DataPlaneKind::kernel, plans, sas, 9000)[1].mtu, 8926);
}

TEST(TunnelMtu, ProposalsComeFromTheLoadConnBody) {
  auto p = plan("hub", 7, {"aes256gcm16", "aes256-sha1"});
  p.conn.section("children").section("hub-2").set_list("esp_proposals", {"aes256gcm16", "3des-md5"});
  EXPECT_EQ(esp_proposals(p), (std::vector<std::string>{"aes256gcm16", "aes256-sha1", "3des-md5"}));
}

}  // namespace
}  // namespace ergw::gateway
