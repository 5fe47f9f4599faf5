#include "xfrm/fastpath/sa_file.h"

#include <gtest/gtest.h>

#include <string>

namespace ergw::xfrm::fastpath {
namespace {

// 36 octets: AES-256 key + salt (RFC 4106 §8.1). Test-only values.
const std::string kGcmKey = "0x" + std::string(64, 'a') + "01020304";
const std::string kAesKey = "0x" + std::string(64, 'b');
const std::string kHmacKey = "0x" + std::string(64, 'c');

std::string gcm_sa(const std::string& extra = "") {
  return R"J({"name": "t", "dir": "out", "src": "172.16.0.1", "dst": "172.16.0.2", "spi": "0x1001",
             "aead": {"name": "rfc4106(gcm(aes))", "key": ")J" +
         kGcmKey + R"J(", "icv_bits": 128})J" + extra + "}";
}

std::string file_of(const std::string& sa) { return R"J({"version": 1, "sas": [)J" + sa + "]}"; }

TEST(SaFile, ParsesGcmOutboundWithUdpEncapAndSelectors) {
  auto file = parse_sa_file(file_of(gcm_sa(R"J(, "encap": {"type": "espinudp", "sport": 4500, "dport": 4501},
      "esn": true, "replay_window": 1024, "lifetime": {"soft": {"packets": 10}, "hard": {"packets": 20}},
      "sel": {"src": ["192.168.10.0/24"], "dst": ["10.0.2.0/24", "fd20::/64"]})J")));
  ASSERT_TRUE(file.ok()) << file.error();
  ASSERT_EQ(file->sas.size(), 1u);
  const StaticSa& sa = file->sas[0];
  EXPECT_EQ(sa.name, "t");
  EXPECT_EQ(sa.config.spi, 0x1001u);
  EXPECT_EQ(sa.config.direction, esp::Direction::outbound);
  EXPECT_EQ(sa.config.local.to_string(), "172.16.0.1");
  EXPECT_EQ(sa.config.remote.to_string(), "172.16.0.2");
  EXPECT_EQ(sa.config.encapsulation, esp::Encapsulation::udp);
  EXPECT_EQ(sa.config.udp_local_port, 4500);  // sport of the packets we send
  EXPECT_EQ(sa.config.udp_remote_port, 4501);
  EXPECT_TRUE(sa.config.algorithm.is_aead());
  EXPECT_EQ(sa.config.algorithm.key_bits, 256);
  EXPECT_EQ(sa.config.encryption_key.size(), 32u);
  EXPECT_EQ(sa.config.gcm_salt, (std::array<uint8_t, 4>{1, 2, 3, 4}));
  EXPECT_TRUE(sa.config.esn);
  EXPECT_EQ(sa.config.replay_window, 1024u);
  EXPECT_EQ(sa.config.lifetime.soft.packets, 10u);
  EXPECT_EQ(sa.config.lifetime.hard.packets, 20u);
  EXPECT_EQ(sa.selector_src.size(), 1u);
  EXPECT_EQ(sa.selector_dst.size(), 2u);
}

TEST(SaFile, InboundSwapsEndpointsAndPortsLikeIpXfrm) {
  auto file = parse_sa_file(file_of(R"J({"dir": "in", "src": "fd16::2", "dst": "fd16::1", "spi": 4097,
      "encap": {"type": "espinudp", "sport": 4501, "dport": 4500},
      "enc": {"name": "cbc(aes)", "key": ")J" + kAesKey + R"J("},
      "auth": {"name": "hmac(sha256)", "key": ")J" + kHmacKey + R"J(", "trunc_bits": 128}})J"));
  ASSERT_TRUE(file.ok()) << file.error();
  const esp::SaConfig& c = file->sas[0].config;
  EXPECT_EQ(c.direction, esp::Direction::inbound);
  EXPECT_EQ(c.local.to_string(), "fd16::1");
  EXPECT_EQ(c.remote.to_string(), "fd16::2");
  EXPECT_EQ(c.udp_local_port, 4500);
  EXPECT_EQ(c.udp_remote_port, 4501);
  EXPECT_EQ(c.algorithm.encryption, esp::Encryption::aes_cbc);
  EXPECT_EQ(c.algorithm.integrity, esp::Integrity::hmac_sha256_128);
  EXPECT_EQ(c.integrity_key.size(), 32u);
  EXPECT_EQ(c.replay_window, esp::kDefaultReplayWindow);
  EXPECT_EQ(c.encapsulation, esp::Encapsulation::udp);
}

TEST(SaFile, NoEncapMeansRawEsp) {
  auto file = parse_sa_file(file_of(gcm_sa()));
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(file->sas[0].config.encapsulation, esp::Encapsulation::raw_esp);
}

struct BadCase {
  const char* what;
  std::string json;
  const char* expected;  // substring of the error
};

class SaFileErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(SaFileErrors, NameTheFieldAndNeverTheKey) {
  auto file = parse_sa_file(GetParam().json);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().find(GetParam().expected), std::string::npos) << file.error();
  EXPECT_EQ(file.error().find(std::string(32, 'a')), std::string::npos) << "key leaked: " << file.error();
  EXPECT_EQ(file.error().find(std::string(32, 'b')), std::string::npos) << "key leaked: " << file.error();
}

INSTANTIATE_TEST_SUITE_P(
    All, SaFileErrors,
    ::testing::Values(
        BadCase{"not json", "{\"sas\": [ " + kGcmKey, "not valid JSON (syntax error near byte"},
        BadCase{"empty", R"J({"version": 1, "sas": []})J", "$.sas: must be a non-empty list"},
        BadCase{"version", R"J({"version": 2, "sas": []})J", "$.version: must be 1"},
        BadCase{"unknown top field", R"J({"version": 1, "sa": []})J", "$.sa: unknown field; allowed: version, sas"},
        BadCase{"typo", file_of(gcm_sa(R"J(, "replay_windw": 64)J")), "sas[0].replay_windw: unknown field"},
        BadCase{"dir", file_of(R"J({"dir": "fwd"})J"), "sas[0].dir: must be \"in\" or \"out\""},
        BadCase{"spi zero", file_of(R"J({"dir": "in", "spi": 0})J"), "sas[0].spi: must be a 32-bit SPI from 256"},
        BadCase{"spi text", file_of(R"J({"dir": "in", "spi": "0xzz"})J"), "sas[0].spi"},
        BadCase{"address", file_of(R"J({"dir": "in", "src": "1.2.3", "dst": "1.2.3.4"})J"),
                "sas[0].src: must be an IPv4 or IPv6 address"},
        BadCase{"families", file_of(R"J({"dir": "in", "src": "::1", "dst": "1.2.3.4"})J"),
                "sas[0].dst: must be the same address family as src"},
        BadCase{"no crypto", file_of(R"J({"dir": "in"})J"), "needs exactly one of \"aead\""},
        BadCase{"aead name", file_of(R"J({"dir":"in","aead":{"name":"gcm(aes)","key":")J" + kGcmKey + R"J("}})J"),
                "sas[0].aead.name: must be \"rfc4106(gcm(aes))\""},
        BadCase{"icv 64", file_of(R"J({"dir":"in","aead":{"name":"rfc4106(gcm(aes))","icv_bits":64,"key":")J" +
                                  kGcmKey + R"J("}})J"),
                "sas[0].aead.icv_bits: must be 128"},
        BadCase{"gcm key length",
                file_of(R"J({"dir":"in","aead":{"name":"rfc4106(gcm(aes))","key":"0x)J" + std::string(64, 'a') +
                        R"J("}})J"),
                "sas[0].aead.key: must be 20, 28 or 36 octets"},
        BadCase{"key not hex",
                file_of(R"J({"dir":"in","aead":{"name":"rfc4106(gcm(aes))","key":"0x)J" + std::string(64, 'a') +
                        R"J(zz"}})J"),
                "sas[0].aead.key: contains a character that is not a hex digit"},
        BadCase{"cbc without auth", file_of(R"J({"dir":"in","enc":{"name":"cbc(aes)","key":")J" + kAesKey + R"J("}})J"),
                "sas[0].auth: missing"},
        BadCase{"sha256-96 trap",
                file_of(R"J({"dir":"in","enc":{"name":"cbc(aes)","key":")J" + kAesKey +
                        R"J("},"auth":{"name":"hmac(sha256)","trunc_bits":96,"key":"0x)J" + std::string(64, 'a') +
                        R"J("}})J"),
                "sas[0].auth.trunc_bits: must be 128 for hmac(sha256)"},
        BadCase{"md5", file_of(R"J({"dir":"in","enc":{"name":"cbc(aes)","key":")J" + kAesKey +
                               R"J("},"auth":{"name":"hmac(md5)","key":"0x00"}})J"),
                "sas[0].auth.name: must be one of hmac(sha1), hmac(sha256), hmac(sha384)"},
        BadCase{"encap", file_of(gcm_sa(R"J(, "encap": {"type": "espintcp"})J")),
                "sas[0].encap.type: must be \"espinudp\""},
        BadCase{"port", file_of(gcm_sa(R"J(, "encap": {"type": "espinudp", "sport": 70000})J")),
                "sas[0].encap.sport: must be a port from 1 to 65535"},
        BadCase{"window", file_of(gcm_sa(R"J(, "replay_window": 100000)J")), "sas[0].replay_window: must be an integer"},
        BadCase{"selector", file_of(gcm_sa(R"J(, "sel": {"dst": ["10.0.2.1/24"]})J")),
                "sas[0].sel.dst[0]: must be a prefix"},
        BadCase{"duplicate inbound spi",
                file_of(R"J({"dir":"in","src":"1.1.1.1","dst":"2.2.2.2","spi":4096,"aead":{"name":"rfc4106(gcm(aes))","key":")J" +
                        kGcmKey + R"J("}},{"dir":"in","src":"1.1.1.1","dst":"2.2.2.2","spi":4096,"aead":{"name":"rfc4106(gcm(aes))","key":")J" +
                        kGcmKey + R"J("}})J"),
                "sas[1].spi: inbound SPI used twice"}));

TEST(SaFile, ReportsEveryProblemAtOnce) {
  auto file = parse_sa_file(file_of(R"J({"dir": "sideways", "spi": 1}, {"dir": "in", "src": "x"})J"));
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().find("sas[0].dir"), std::string::npos);
  EXPECT_NE(file.error().find("sas[0].spi"), std::string::npos);
  EXPECT_NE(file.error().find("sas[1].src"), std::string::npos);
  EXPECT_NE(file.error().find("sas[1].dst: missing"), std::string::npos);
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
