// SaTable: 10,000 SAs, O(1) lookups, unique inbound SPIs, configuration
// validation, algorithm names.
#include <gtest/gtest.h>

#include "tests/xfrm/esp/esp_test_util.h"

namespace ergw::xfrm::esp {
namespace {

using namespace testing;

const Algorithm kGcm128{Encryption::aes_gcm_16, 128, Integrity::none};

TEST(SaTable, TenThousandInboundSasByAndSpi) {
  SaTable table(20'000);
  std::vector<SaId> ids;
  for (uint32_t i = 0; i < 10'000; ++i) {
    auto id = table.add(make_config(kGcm128, Direction::inbound, false, 0xC0000000u + i * 7919u));
    ASSERT_TRUE(id.ok()) << id.error();
    ids.push_back(*id);
  }
  EXPECT_EQ(table.size(), 10'000U);
  {
    auto lock = table.read_lock();
    for (uint32_t i = 0; i < 10'000; ++i) {
      Sa* sa = table.find_inbound(0xC0000000u + i * 7919u);
      ASSERT_NE(sa, nullptr);
      EXPECT_EQ(sa_id(*sa), ids[i]);
    }
    EXPECT_EQ(table.find_inbound(0x12345678), nullptr);
  }
  EXPECT_FALSE(table.add(make_config(kGcm128, Direction::inbound, false, 0xC0000000u)).ok())
      << "inbound SPIs are unique";
  EXPECT_TRUE(table.add(make_config(kGcm128, Direction::outbound, false, 0xC0000000u)).ok())
      << "outbound SAs are keyed by id, the SPI belongs to the peer";
  ASSERT_TRUE(table.remove(ids[5]).ok());
  auto lock = table.read_lock();
  EXPECT_EQ(table.find_inbound(0xC0000000u + 5 * 7919u), nullptr);
}

TEST(SaConfig, ValidationNamesTheProblem) {
  SaConfig c = make_config(kGcm128, Direction::inbound, false);
  EXPECT_TRUE(validate(c).ok());
  SaConfig bad = c;
  bad.spi = 0;
  EXPECT_FALSE(validate(bad).ok());
  bad = c;
  bad.encryption_key.pop_back();
  EXPECT_NE(validate(bad).error().find("encryption key is 15 octets"), std::string::npos);
  bad = c;
  bad.replay_window = kMaxReplayWindow + 1;
  EXPECT_FALSE(validate(bad).ok());
  bad = c;
  bad.replay_window = 16;
  EXPECT_FALSE(validate(bad).ok());
  bad = c;
  bad.esn = true;
  bad.replay_window = 0;
  EXPECT_FALSE(validate(bad).ok());
  bad = c;
  bad.lifetime.soft.bytes = 10;
  bad.lifetime.hard.bytes = 5;
  EXPECT_FALSE(validate(bad).ok());
  bad = make_config({Encryption::aes_cbc, 256, Integrity::hmac_sha256_128}, Direction::inbound, false);
  bad.integrity_key.resize(20);
  EXPECT_FALSE(validate(bad).ok());
  // Keys never appear in errors.
  bad.encryption_key.assign(32, 0x41);
  EXPECT_EQ(validate(bad).error().find("AAAA"), std::string::npos);
}

TEST(SaConfig, GcmKeymatSplitsKeyAndSalt) {
  SaConfig c;
  const auto keymat = hex("000102030405060708090a0b0c0d0e0f cafebabe");
  ASSERT_TRUE(set_gcm_keymat(c, keymat).ok());
  EXPECT_EQ(c.encryption_key.size(), 16U);
  EXPECT_EQ(c.gcm_salt, (std::array<uint8_t, 4>{0xca, 0xfe, 0xba, 0xbe}));
  EXPECT_FALSE(set_gcm_keymat(c, hex("0001")).ok());
}

TEST(Algorithms, StrongswanNames) {
  auto a = parse_algorithm("aes256gcm16");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Algorithm{Encryption::aes_gcm_16, 256, Integrity::none}));
  a = parse_algorithm("aes128-sha256");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Algorithm{Encryption::aes_cbc, 128, Integrity::hmac_sha256_128}));
  EXPECT_EQ(to_string(*a), "aes128-sha256");
  EXPECT_TRUE(parse_algorithm("aes192-sha384").ok());
  EXPECT_TRUE(parse_algorithm("aes256-sha1").ok());
  for (const char* refused : {"3des-sha1", "des-md5", "aes256-md5", "null-sha256", "aes128gcm8", "aes128"}) {
    auto r = parse_algorithm(refused);
    ASSERT_FALSE(r.ok()) << refused;
    EXPECT_NE(r.error().find(refused), std::string::npos) << r.error();
  }
  EXPECT_FALSE(parse_algorithm("chacha20poly1305").ok());
}

TEST(Algorithms, AzureIpsecPolicyValues) {
  auto a = algorithm_from_azure("GCMAES256", "GCMAES256");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->key_bits, 256);
  a = algorithm_from_azure("GCMAES192", "GCMAES192");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->key_bits, 192);
  a = algorithm_from_azure("AES256", "SHA256");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->integrity, Integrity::hmac_sha256_128);
  EXPECT_TRUE(algorithm_from_azure("AES128", "SHA1").ok());
  for (auto [enc, integ, named] : {std::tuple{"DES", "SHA256", "DES"}, std::tuple{"DES3", "SHA1", "DES3"},
                                   std::tuple{"None", "SHA256", "None"}, std::tuple{"AES256", "MD5", "MD5"},
                                   std::tuple{"DES3", "GCMAES256", "GCMAES"},
                                   std::tuple{"GCMAES128", "GCMAES256", "GCMAES"}}) {
    auto r = algorithm_from_azure(enc, integ);
    ASSERT_FALSE(r.ok()) << enc << "/" << integ;
    EXPECT_NE(r.error().find(named), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace ergw::xfrm::esp
