// Every algorithm x inner IPv4/IPv6 x ESN on/off x GCM backend: encapsulate,
// check the wire layout, decapsulate, compare.
#include <gtest/gtest.h>

#include "tests/xfrm/esp/esp_test_util.h"

namespace ergw::xfrm::esp {
namespace {

using namespace testing;

struct Case {
  Algorithm algorithm;
  int version;
  bool esn;
  CryptoBackend backend;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string name = to_string(c.algorithm) + (c.version == 4 ? "_v4" : "_v6") + (c.esn ? "_esn" : "");
  if (c.backend == CryptoBackend::ipsec_mb) name += "_ipsecmb";
  if (c.backend == CryptoBackend::automatic) name += "_auto";
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const Algorithm& a : all_algorithms()) {
    for (int version : {4, 6}) {
      for (bool esn : {false, true}) {
        out.push_back({a, version, esn, CryptoBackend::openssl});
        if (a.is_aead()) {
          out.push_back({a, version, esn, CryptoBackend::ipsec_mb});
          out.push_back({a, version, esn, CryptoBackend::automatic});
        }
      }
    }
  }
  return out;
}

class RoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTripTest, EncapsulateThenDecapsulate) {
  const Case& c = GetParam();
  if (c.backend == CryptoBackend::ipsec_mb && !ipsec_mb_available()) {
    GTEST_SKIP() << "intel-ipsec-mb is not available in this build or on this CPU";
  }
  SaTable table;
  const SaConfig out_config = make_config(c.algorithm, Direction::outbound, c.esn, 0x2000, c.backend);
  auto out_id = table.add(out_config);
  auto in_id = table.add(mirror(out_config));
  ASSERT_TRUE(out_id.ok()) << out_id.error();
  ASSERT_TRUE(in_id.ok()) << in_id.error();

  // Sizes around every padding boundary, and a full-size packet.
  for (size_t length : {size_t{40}, size_t{41}, size_t{42}, size_t{43}, size_t{44}, size_t{45}, size_t{55},
                        size_t{64}, size_t{511}, size_t{1400}, size_t{1500}}) {
    const auto inner = inner_packet(c.version, length, static_cast<uint8_t>(length));
    PacketBuffer buffer(inner);
    const EncapResult e = table.encapsulate(*out_id, buffer.span(), buffer.inner_offset, buffer.inner_length);
    ASSERT_TRUE(e.ok) << to_string(e.drop);
    const size_t header = 8 + c.algorithm.iv_bytes();
    EXPECT_EQ(e.esp_offset, buffer.inner_offset - header);
    const size_t cipher = e.esp_length - header - c.algorithm.icv_bytes();
    // RFC 4303 2.4: trailer right-aligned on 4 octets; CBC on its block.
    EXPECT_EQ(cipher % (c.algorithm.is_aead() ? 4 : 16), 0U);
    EXPECT_LT(cipher - length - 2, c.algorithm.is_aead() ? 4U : 16U);
    std::span<uint8_t> esp(buffer.bytes.data() + e.esp_offset, e.esp_length);
    EXPECT_EQ(load_be32(esp.data()), out_config.spi);
    EXPECT_EQ(load_be32(esp.data() + 4), static_cast<uint32_t>(e.sequence));
    // The plaintext must not be visible on the wire.
    EXPECT_FALSE(std::equal(inner.begin() + 20, inner.begin() + 36, esp.begin() + static_cast<std::ptrdiff_t>(header) + 20));

    const DecapResult d = table.decapsulate(esp);
    ASSERT_TRUE(d.ok) << to_string(d.drop) << " at length " << length;
    EXPECT_EQ(d.sa, *in_id);
    EXPECT_EQ(d.sequence, e.sequence);
    EXPECT_EQ(d.inner_version, c.version);
    ASSERT_EQ(d.inner_length, length);
    EXPECT_TRUE(std::equal(inner.begin(), inner.end(), esp.begin() + static_cast<std::ptrdiff_t>(d.inner_offset)));
  }
  auto lock = table.read_lock();
  EXPECT_EQ(sa_counters(*table.find(*out_id)).packets, 11U);
  EXPECT_EQ(sa_counters(*table.find(*in_id)).packets, 11U);
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, RoundTripTest, ::testing::ValuesIn(cases()), case_name);

TEST(RoundTrip, EsnCarriesAcrossThe32BitBoundary) {
  for (const Algorithm& a : all_algorithms()) {
    SaTable table;
    SaConfig out_config = make_config(a, Direction::outbound, true);
    out_config.initial_sequence = 0xFFFFFFFDULL;
    SaConfig in_config = mirror(out_config);
    auto out_id = table.add(out_config);
    ASSERT_TRUE(out_id.ok());
    ASSERT_TRUE(table.add(in_config).ok());
    for (uint64_t expected = 0xFFFFFFFEULL; expected <= 0x100000002ULL; ++expected) {
      const auto inner = inner_packet(4, 100);
      PacketBuffer buffer(inner);
      const EncapResult e = table.encapsulate(*out_id, buffer.span(), buffer.inner_offset, buffer.inner_length);
      ASSERT_TRUE(e.ok);
      EXPECT_EQ(e.sequence, expected);
      const DecapResult d =
          table.decapsulate(std::span<uint8_t>(buffer.bytes.data() + e.esp_offset, e.esp_length));
      ASSERT_TRUE(d.ok) << to_string(a) << " " << to_string(d.drop) << " seq " << expected;
      EXPECT_EQ(d.sequence, expected);
    }
  }
}

TEST(RoundTrip, EsnHighBitsAreAuthenticatedForCbc) {
  // RFC 4303 2.2.1: the high half goes into the ICV but not onto the wire. A
  // receiver that guesses the wrong high half must fail the ICV.
  const Algorithm a{Encryption::aes_cbc, 256, Integrity::hmac_sha256_128};
  SaTable table;
  SaConfig out_config = make_config(a, Direction::outbound, true);
  out_config.initial_sequence = (uint64_t{5} << 32) + 10;
  SaConfig in_config = mirror(out_config);
  in_config.initial_sequence = (uint64_t{4} << 32) + 10;  // receiver one subspace behind
  auto out_id = table.add(out_config);
  ASSERT_TRUE(out_id.ok());
  ASSERT_TRUE(table.add(in_config).ok());
  const auto inner = inner_packet(4, 100);
  PacketBuffer buffer(inner);
  const EncapResult e = table.encapsulate(*out_id, buffer.span(), buffer.inner_offset, buffer.inner_length);
  ASSERT_TRUE(e.ok);
  const DecapResult d = table.decapsulate(std::span<uint8_t>(buffer.bytes.data() + e.esp_offset, e.esp_length));
  EXPECT_EQ(d.drop, DropReason::icv_mismatch);
}

}  // namespace
}  // namespace ergw::xfrm::esp
