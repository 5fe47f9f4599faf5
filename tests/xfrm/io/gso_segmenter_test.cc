#include "xfrm/io/gso_segmenter.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ergw::xfrm::io {
namespace {

// Reference checksum, written the slow RFC 1071 way (16 bits at a time) so it
// does not share code with the implementation under test.
uint16_t reference_sum(const std::vector<uint8_t>& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 2) {
    uint32_t word = uint32_t{bytes[i]} << 8;
    if (i + 1 < bytes.size()) word |= bytes[i + 1];
    sum += word;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

// True when the transport checksum of `packet` verifies (sum incl. pseudo == 0xffff).
bool l4_checksum_ok(const std::vector<uint8_t>& packet, size_t l4, uint8_t proto) {
  std::vector<uint8_t> pseudo;
  const bool v6 = (packet[0] >> 4) == 6;
  const size_t l4_len = packet.size() - l4;
  if (v6) {
    pseudo.insert(pseudo.end(), packet.begin() + 8, packet.begin() + 40);
    pseudo.insert(pseudo.end(), {0, 0, static_cast<uint8_t>(l4_len >> 8), static_cast<uint8_t>(l4_len), 0, 0, 0, proto});
  } else {
    pseudo.insert(pseudo.end(), packet.begin() + 12, packet.begin() + 20);
    pseudo.insert(pseudo.end(), {0, proto, static_cast<uint8_t>(l4_len >> 8), static_cast<uint8_t>(l4_len)});
  }
  pseudo.insert(pseudo.end(), packet.begin() + static_cast<long>(l4), packet.end());
  return reference_sum(pseudo) == 0xffff;
}

uint16_t be16(const std::vector<uint8_t>& p, size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); }
uint32_t be32(const std::vector<uint8_t>& p, size_t at) {
  return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
}

std::vector<uint8_t> make_packet(bool v6, uint8_t proto, size_t payload) {
  const size_t ip = v6 ? 40 : 20;
  const size_t l4 = proto == 6 ? 20 : 8;
  std::vector<uint8_t> p(ip + l4 + payload);
  if (v6) {
    p[0] = 0x60;
    p[6] = proto;
    p[7] = 64;
    for (int i = 0; i < 16; ++i) p[8 + i] = static_cast<uint8_t>(0x20 + i);
    for (int i = 0; i < 16; ++i) p[24 + i] = static_cast<uint8_t>(0x40 + i);
  } else {
    p[0] = 0x45;
    p[4] = 0x12;
    p[5] = 0x34;
    p[8] = 64;
    p[9] = proto;
    const uint8_t src[4] = {192, 168, 10, 10}, dst[4] = {10, 0, 2, 10};
    std::memcpy(&p[12], src, 4);
    std::memcpy(&p[16], dst, 4);
  }
  p[ip] = 0x9c;  // source port 40000
  p[ip + 1] = 0x40;
  p[ip + 2] = 0x14;  // destination port 5201
  p[ip + 3] = 0x51;
  if (proto == 6) {
    p[ip + 4] = 0xff;  // sequence number close to wrapping
    p[ip + 5] = 0xff;
    p[ip + 6] = 0xf0;
    p[ip + 12] = 0x50;                      // data offset 5
    p[ip + 13] = 0x80 | 0x10 | 0x08 | 0x01;  // CWR ACK PSH FIN
  }
  for (size_t i = 0; i < payload; ++i) p[ip + l4 + i] = static_cast<uint8_t>(i * 13 + 1);
  return p;
}

struct Case {
  bool v6;
  uint8_t proto;
  uint8_t gso_type;
};

class GsoSplit : public ::testing::TestWithParam<Case> {};

TEST_P(GsoSplit, SegmentsLikeTheKernel) {
  const Case c = GetParam();
  const size_t ip = c.v6 ? 40 : 20;
  const size_t l4h = c.proto == 6 ? 20 : 8;
  const size_t mss = 1000;
  std::vector<uint8_t> packet = make_packet(c.v6, c.proto, 3500);
  VirtioNetHdr hdr;
  hdr.flags = kVnetFlagNeedsCsum;
  hdr.gso_type = c.gso_type;
  hdr.gso_size = mss;
  hdr.hdr_len = static_cast<uint16_t>(ip + l4h);
  hdr.csum_start = static_cast<uint16_t>(ip);
  hdr.csum_offset = c.proto == 6 ? 16 : 6;

  GsoSegmenter seg;
  ASSERT_EQ(seg.prepare(hdr, packet), OffloadVerdict::kOk);
  ASSERT_FALSE(seg.single());
  ASSERT_EQ(seg.segment_count(), 4u);  // 1000 + 1000 + 1000 + 500

  for (size_t i = 0; i < 4; ++i) {
    const size_t chunk = i < 3 ? mss : 500;
    std::vector<uint8_t> out(seg.segment_length(i));
    ASSERT_EQ(out.size(), ip + l4h + chunk);
    ASSERT_EQ(seg.build_segment(i, out.data()), out.size());
    if (c.v6) {
      EXPECT_EQ(be16(out, 4), out.size() - 40);
    } else {
      EXPECT_EQ(be16(out, 2), out.size());
      EXPECT_EQ(be16(out, 4), 0x1234 + i);
      EXPECT_EQ(reference_sum({out.begin(), out.begin() + 20}), 0xffff) << "IPv4 header checksum";
    }
    EXPECT_TRUE(l4_checksum_ok(out, ip, c.proto)) << "segment " << i;
    EXPECT_EQ(0, std::memcmp(&out[ip + l4h], &packet[ip + l4h + i * mss], chunk));
    if (c.proto == 6) {
      EXPECT_EQ(be32(out, ip + 4), static_cast<uint32_t>(0xfffff000u + i * mss)) << "sequence wraps mod 2^32";
      const uint8_t flags = out[ip + 13];
      EXPECT_EQ((flags & 0x80) != 0, i == 0) << "CWR only on the first segment";
      EXPECT_EQ((flags & 0x09) != 0, i == 3) << "FIN/PSH only on the last segment";
      EXPECT_TRUE(flags & 0x10);
    } else {
      EXPECT_EQ(be16(out, ip + 4), l4h + chunk);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TcpUdp, GsoSplit,
                         ::testing::Values(Case{false, 6, kVnetGsoTcpV4}, Case{true, 6, kVnetGsoTcpV6},
                                           Case{false, 17, kVnetGsoUdpL4}, Case{true, 17, kVnetGsoUdpL4}));

TEST(GsoSegmenter, EqualSizedSegmentsOnly) {
  // Every segment the same length (the case the Linux 7.0 UDP GSO bug mangled).
  std::vector<uint8_t> packet = make_packet(false, 17, 3000);
  VirtioNetHdr hdr{kVnetFlagNeedsCsum, kVnetGsoUdpL4, 28, 1000, 20, 6};
  GsoSegmenter seg;
  ASSERT_EQ(seg.prepare(hdr, packet), OffloadVerdict::kOk);
  ASSERT_EQ(seg.segment_count(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(seg.segment_length(i), 1028u);
}

TEST(GsoSegmenter, CompletesPartialChecksumWithoutSegmenting) {
  // The kernel leaves the folded pseudo-header sum in the checksum field.
  std::vector<uint8_t> packet = make_packet(false, 17, 100);
  packet[24] = 0;
  packet[25] = 108;  // UDP length
  std::vector<uint8_t> pseudo = {192, 168, 10, 10, 10, 0, 2, 10, 0, 17, 0, 108};
  const uint16_t seed = reference_sum(pseudo);
  packet[26] = static_cast<uint8_t>(seed >> 8);
  packet[27] = static_cast<uint8_t>(seed);
  VirtioNetHdr hdr{kVnetFlagNeedsCsum, kVnetGsoNone, 0, 0, 20, 6};
  GsoSegmenter seg;
  ASSERT_EQ(seg.prepare(hdr, packet), OffloadVerdict::kOk);
  EXPECT_TRUE(seg.single());
  EXPECT_TRUE(l4_checksum_ok(packet, 20, 17));
}

TEST(GsoSegmenter, PlainPacketIsUntouched) {
  std::vector<uint8_t> packet = make_packet(true, 6, 10);
  const std::vector<uint8_t> copy = packet;
  GsoSegmenter seg;
  ASSERT_EQ(seg.prepare(VirtioNetHdr{}, packet), OffloadVerdict::kOk);
  EXPECT_TRUE(seg.single());
  EXPECT_EQ(packet, copy);
}

TEST(GsoSegmenter, RefusesInconsistentHeaders) {
  GsoSegmenter seg;
  std::vector<uint8_t> v6 = make_packet(true, 6, 3000);
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoTcpV4, 60, 1000, 40, 16}, v6),
            OffloadVerdict::kMalformed);
  std::vector<uint8_t> v4 = make_packet(false, 6, 3000);
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoTcpV4, 40, 0, 20, 16}, v4),
            OffloadVerdict::kMalformed)
      << "gso_size 0";
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoUdp, 28, 1000, 20, 6}, v4),
            OffloadVerdict::kUnsupported)
      << "legacy UFO";
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoUdpL4, 28, 1000, 20, 6}, v4),
            OffloadVerdict::kMalformed)
      << "USO on a TCP packet";
  std::vector<uint8_t> tiny(10, 0x45);
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoTcpV4, 40, 1000, 20, 16}, tiny),
            OffloadVerdict::kMalformed);
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoNone, 0, 0, 20, 200}, v4),
            OffloadVerdict::kOk);
  std::vector<uint8_t> small = make_packet(false, 17, 4);
  EXPECT_EQ(seg.prepare(VirtioNetHdr{kVnetFlagNeedsCsum, kVnetGsoNone, 0, 0, 20, 200}, small),
            OffloadVerdict::kMalformed)
      << "checksum field beyond the packet";
}

}  // namespace
}  // namespace ergw::xfrm::io
