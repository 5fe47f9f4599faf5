#include "xfrm/io/tcp_coalescer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "xfrm/io/gso_segmenter.h"

namespace ergw::xfrm::io {
namespace {

struct Written {
  VirtioNetHdr hdr;
  std::vector<uint8_t> packet;
};

class RecordingSink : public PacketSink {
 public:
  explicit RecordingSink(bool gso) : gso_(gso) {}
  int write(const VirtioNetHdr& hdr, std::span<const uint8_t> packet) const override {
    written.push_back({hdr, {packet.begin(), packet.end()}});
    return 0;
  }
  bool accepts_gso() const override { return gso_; }
  mutable std::vector<Written> written;

 private:
  bool gso_;
};

// Slow RFC 1071 reference, independent of xfrm/io/checksum.cc.
uint32_t ref_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i < n; i += 2) {
    sum += (uint32_t{p[i]} << 8) | (i + 1 < n ? p[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return sum;
}

uint32_t ref_pseudo(const std::vector<uint8_t>& p, bool v6, size_t l4_len) {
  uint32_t sum = v6 ? ref_sum(&p[8], 32) : ref_sum(&p[12], 8);
  sum += 6 + static_cast<uint32_t>(l4_len);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

struct Flow {
  bool v6 = false;
  uint16_t sport = 40000;
};

std::vector<uint8_t> tcp_packet(const Flow& f, uint32_t seq, size_t payload, uint8_t flags, uint16_t id) {
  const size_t ip = f.v6 ? 40 : 20;
  const size_t thl = 32;  // with a 12-byte timestamp option block
  std::vector<uint8_t> p(ip + thl + payload);
  if (f.v6) {
    p[0] = 0x60;
    p[4] = static_cast<uint8_t>((thl + payload) >> 8);
    p[5] = static_cast<uint8_t>(thl + payload);
    p[6] = 6;
    p[7] = 63;
    for (int i = 0; i < 16; ++i) p[8 + i] = static_cast<uint8_t>(0xfd), p[24 + i] = static_cast<uint8_t>(0x20 + i);
  } else {
    p[0] = 0x45;
    p[2] = static_cast<uint8_t>(p.size() >> 8);
    p[3] = static_cast<uint8_t>(p.size());
    p[4] = static_cast<uint8_t>(id >> 8);
    p[5] = static_cast<uint8_t>(id);
    p[6] = 0x40;  // DF
    p[8] = 63;
    p[9] = 6;
    const uint8_t src[4] = {192, 168, 10, 10}, dst[4] = {10, 0, 2, 10};
    std::memcpy(&p[12], src, 4);
    std::memcpy(&p[16], dst, 4);
    const uint16_t c = static_cast<uint16_t>(~ref_sum(p.data(), 20));
    p[10] = static_cast<uint8_t>(c >> 8);
    p[11] = static_cast<uint8_t>(c);
  }
  uint8_t* t = &p[ip];
  t[0] = static_cast<uint8_t>(f.sport >> 8);
  t[1] = static_cast<uint8_t>(f.sport);
  t[2] = 0x14;
  t[3] = 0x51;
  t[4] = static_cast<uint8_t>(seq >> 24);
  t[5] = static_cast<uint8_t>(seq >> 16);
  t[6] = static_cast<uint8_t>(seq >> 8);
  t[7] = static_cast<uint8_t>(seq);
  t[8] = 0x12;  // ack
  t[11] = 0x34;
  t[12] = static_cast<uint8_t>((thl / 4) << 4);
  t[13] = flags;
  t[14] = 0x01;  // window
  t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;  // NOP NOP TS
  t[24] = 0xaa, t[28] = 0xbb;
  for (size_t i = 0; i < payload; ++i) t[thl + i] = static_cast<uint8_t>(seq + i);
  const uint32_t sum = ref_sum(t, thl + payload, ref_pseudo(p, f.v6, thl + payload));
  const uint16_t c = static_cast<uint16_t>(~sum);
  t[16] = static_cast<uint8_t>(c >> 8);
  t[17] = static_cast<uint8_t>(c);
  return p;
}

class Coalesce : public ::testing::TestWithParam<bool> {};

TEST_P(Coalesce, TrainBecomesOneTsoWriteThatResegmentsToTheOriginals) {
  const Flow f{GetParam()};
  std::vector<std::vector<uint8_t>> originals = {
      tcp_packet(f, 0xfffff000, 1000, 0x10, 7), tcp_packet(f, 0xfffff000 + 1000, 1000, 0x10, 8),
      tcp_packet(f, 0xfffff000 + 2000, 1000, 0x10, 9), tcp_packet(f, 0xfffff000 + 3000, 400, 0x18, 10)};
  RecordingSink sink(true);
  TcpCoalescer c(sink);
  for (const auto& p : originals) c.add(p);
  c.flush();
  ASSERT_EQ(sink.written.size(), 1u);
  const Written& w = sink.written[0];
  const size_t ip = f.v6 ? 40 : 20;
  EXPECT_EQ(w.hdr.gso_type, f.v6 ? kVnetGsoTcpV6 : kVnetGsoTcpV4);
  EXPECT_EQ(w.hdr.gso_size, 1000);
  EXPECT_EQ(w.hdr.flags, kVnetFlagNeedsCsum);
  EXPECT_EQ(w.hdr.csum_start, ip);
  EXPECT_EQ(w.hdr.csum_offset, 16);
  EXPECT_EQ(w.packet.size(), ip + 32 + 3400);
  // The checksum field carries the pseudo-header sum over the whole TCP length.
  const uint32_t expected = ref_pseudo(w.packet, f.v6, 32 + 3400);
  EXPECT_EQ((w.packet[ip + 16] << 8) | w.packet[ip + 17], expected);
  EXPECT_EQ(c.stats().merged, 4u);

  // What the kernel's GSO will do with it must give back the original bytes.
  std::vector<uint8_t> merged = w.packet;
  GsoSegmenter seg;
  ASSERT_EQ(seg.prepare(w.hdr, merged), OffloadVerdict::kOk);
  ASSERT_EQ(seg.segment_count(), originals.size());
  for (size_t i = 0; i < originals.size(); ++i) {
    std::vector<uint8_t> out(seg.segment_length(i));
    seg.build_segment(i, out.data());
    EXPECT_EQ(out, originals[i]) << "segment " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(V4V6, Coalesce, ::testing::Bool());

TEST(TcpCoalescer, GapsBadChecksumsAndSynAreNotMerged) {
  const Flow a{false, 40000}, b{false, 40001};
  RecordingSink sink(true);
  TcpCoalescer c(sink);
  c.add(tcp_packet(a, 100, 500, 0x10, 1));
  c.add(tcp_packet(a, 600, 500, 0x10, 2));  // merges
  c.add(tcp_packet(b, 100, 500, 0x10, 3));  // other flow: its own slot
  c.add(tcp_packet(b, 700, 500, 0x10, 4));  // gap: b's first is written alone
  std::vector<uint8_t> corrupt = tcp_packet(b, 1200, 500, 0x10, 5);
  corrupt.back() ^= 0xff;
  c.add(corrupt);                             // checksum fails: written alone
  c.add(tcp_packet(b, 1700, 500, 0x02, 6));  // SYN flag: never merged
  c.flush();
  ASSERT_EQ(sink.written.size(), 5u);
  size_t gso = 0;
  for (const Written& w : sink.written) {
    if (w.hdr.gso_type == kVnetGsoNone) continue;
    ++gso;
    EXPECT_EQ(w.packet.size(), 20 + 32 + 1000u);
  }
  EXPECT_EQ(gso, 1u);
  EXPECT_EQ(sink.written[2].packet, corrupt);
}

TEST(TcpCoalescer, InterleavedFlowsEachCoalesce) {
  const Flow a{false, 40000}, b{true, 40001};
  RecordingSink sink(true);
  TcpCoalescer c(sink);
  for (uint32_t i = 0; i < 4; ++i) {
    c.add(tcp_packet(a, i * 800, 800, 0x10, static_cast<uint16_t>(i)));
    c.add(tcp_packet(b, i * 700, 700, 0x10, 0));
  }
  c.flush();
  ASSERT_EQ(sink.written.size(), 2u);
  EXPECT_EQ(c.stats().merged, 8u);
}

TEST(TcpCoalescer, UnmergeablePacketFlushesItsFlowFirst) {
  const Flow a{};
  RecordingSink sink(true);
  TcpCoalescer c(sink);
  c.add(tcp_packet(a, 0, 1000, 0x10, 1));
  c.add(tcp_packet(a, 1000, 1000, 0x10, 2));
  const auto fin = tcp_packet(a, 2000, 0, 0x11, 3);
  c.add(fin);
  c.flush();
  ASSERT_EQ(sink.written.size(), 2u);
  EXPECT_EQ(sink.written[0].hdr.gso_type, kVnetGsoTcpV4) << "data before the FIN";
  EXPECT_EQ(sink.written[1].packet, fin);
}

TEST(TcpCoalescer, LongerSegmentAfterShortOneStartsAnew) {
  const Flow a{};
  RecordingSink sink(true);
  TcpCoalescer c(sink);
  c.add(tcp_packet(a, 0, 1000, 0x10, 1));
  c.add(tcp_packet(a, 1000, 300, 0x10, 2));  // short: closes the train
  c.add(tcp_packet(a, 1300, 1000, 0x10, 3));
  c.flush();
  ASSERT_EQ(sink.written.size(), 2u);
  EXPECT_EQ(sink.written[0].packet.size(), 20 + 32 + 1300u);
  EXPECT_EQ(sink.written[1].hdr.gso_type, kVnetGsoNone);
}

TEST(TcpCoalescer, PlainSinkGetsEveryPacketUnchanged) {
  const Flow a{};
  RecordingSink sink(false);
  TcpCoalescer c(sink);
  const auto p1 = tcp_packet(a, 0, 1000, 0x10, 1);
  const auto p2 = tcp_packet(a, 1000, 1000, 0x10, 2);
  c.add(p1);
  c.add(p2);
  c.flush();
  ASSERT_EQ(sink.written.size(), 2u);
  EXPECT_EQ(sink.written[0].packet, p1);
  EXPECT_EQ(sink.written[1].packet, p2);
}

}  // namespace
}  // namespace ergw::xfrm::io
