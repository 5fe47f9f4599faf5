#include "xfrm/io/checksum.h"

#include <gtest/gtest.h>

#include <vector>

namespace ergw::xfrm::io {
namespace {

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (with carries folded).
  const std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_finish(checksum_add(data)), static_cast<uint16_t>(~0xddf2));
}

TEST(Checksum, OddLengthPadsWithZero) {
  const std::vector<uint8_t> odd = {0x12, 0x34, 0x56};
  const std::vector<uint8_t> even = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(checksum_finish(checksum_add(odd)), checksum_finish(checksum_add(even)));
}

TEST(Checksum, SplitSumsAtEvenBoundariesAgree) {
  std::vector<uint8_t> data(1501);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  const uint64_t whole = checksum_add(data);
  const uint64_t split = checksum_add(std::span(data).subspan(600), checksum_add(std::span(data).first(600)));
  EXPECT_EQ(checksum_finish(whole), checksum_finish(split));
}

// RFC 1071 as written: 16-bit big-endian words, carries folded at the end.
uint16_t reference_checksum(std::span<const uint8_t> data, uint64_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i + 1 < data.size(); i += 2) sum += (uint64_t{data[i]} << 8) | data[i + 1];
  if (data.size() % 2) sum += uint64_t{data.back()} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

TEST(Checksum, AgreesWithWordByWordSumForEveryLengthAndAlignment) {
  std::vector<uint8_t> data(1600);
  uint32_t x = 12345;
  for (uint8_t& b : data) {
    x = x * 1103515245u + 12345u;  // any fixed pseudo-random bytes
    b = static_cast<uint8_t>(x >> 24);
  }
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t length = 0; length + offset <= 300; ++length) {
      const auto span = std::span(data).subspan(offset, length);
      ASSERT_EQ(checksum_finish(checksum_add(span, 0x1234)), reference_checksum(span, 0x1234))
          << "offset " << offset << " length " << length;
    }
  }
  const auto big = std::span(data).subspan(3, 1501);
  EXPECT_EQ(checksum_finish(checksum_add(big)), reference_checksum(big, 0));
  // Sums that fold to 0xffff and to 0 at every stage.
  const std::vector<uint8_t> ones(1448, 0xff);
  const std::vector<uint8_t> zeros(1448, 0x00);
  EXPECT_EQ(checksum_finish(checksum_add(ones)), reference_checksum(ones, 0));
  EXPECT_EQ(checksum_finish(checksum_add(zeros)), reference_checksum(zeros, 0));
  EXPECT_EQ(checksum_finish(checksum_add(ones, 1)), reference_checksum(ones, 1));
}

TEST(Checksum, Ipv4HeaderChecksumVerifiesToZero) {
  // The widely used textbook header 4500 0073 ... c0a8 00c7, whose checksum is
  // b861; summing it with the stored checksum must then give 0xffff.
  std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0xaa, 0xbb, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  set_ipv4_header_checksum(header.data());
  EXPECT_EQ(header[10], 0xb8);
  EXPECT_EQ(header[11], 0x61);
  EXPECT_EQ(checksum_finish(checksum_add(header)), 0);
}

}  // namespace
}  // namespace ergw::xfrm::io
