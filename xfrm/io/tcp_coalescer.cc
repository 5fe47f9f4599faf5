#include "xfrm/io/tcp_coalescer.h"

#include <cstring>

#include "xfrm/io/checksum.h"

namespace ergw::xfrm::io {
namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpPsh = 0x08;
constexpr size_t kMaxHeldBytes = 65000;  // IPv4 total length / IPv6 payload length fit in 16 bits
constexpr size_t kMaxSegments = 64;

struct TcpSegment {
  bool v6 = false;
  size_t l4 = 0;
  size_t headers = 0;
  size_t payload = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
};

// A plain data segment that GRO could merge, with a verified checksum.
bool parse_candidate(std::span<const uint8_t> p, TcpSegment& seg) {
  if (p.size() < 40) return false;
  const unsigned version = p[0] >> 4;
  uint64_t pseudo;
  if (version == 4) {
    if ((p[0] & 0x0f) != 5 || load_be16(&p[2]) != p.size() || p[9] != kProtoTcp) return false;
    if ((load_be16(&p[6]) & 0x3fff) != 0) return false;  // MF or a fragment offset
    seg.v6 = false;
    seg.l4 = 20;
    pseudo = pseudo_header_sum_v4(&p[12], &p[16], kProtoTcp, static_cast<uint32_t>(p.size() - 20));
  } else if (version == 6) {
    if (p.size() < 60 || p[6] != kProtoTcp || size_t{load_be16(&p[4])} + 40 != p.size()) return false;
    seg.v6 = true;
    seg.l4 = 40;
    pseudo = pseudo_header_sum_v6(&p[8], &p[24], kProtoTcp, static_cast<uint32_t>(p.size() - 40));
  } else {
    return false;
  }
  const size_t thl = static_cast<size_t>(p[seg.l4 + 12] >> 4) * 4;
  if (thl < 20 || seg.l4 + thl >= p.size()) return false;  // no payload: nothing to merge
  seg.headers = seg.l4 + thl;
  seg.payload = p.size() - seg.headers;
  seg.flags = p[seg.l4 + 13];
  if (seg.flags != kTcpAck && seg.flags != (kTcpAck | kTcpPsh)) return false;
  seg.seq = load_be32(&p[seg.l4 + 4]);
  return checksum_finish(checksum_add(p.subspan(seg.l4), pseudo)) == 0;
}

}  // namespace

TcpCoalescer::TcpCoalescer(const PacketSink& sink) : sink_(sink), held_(65536) {}

void TcpCoalescer::write_plain(std::span<const uint8_t> packet) {
  if (sink_.write(VirtioNetHdr{}, packet) == 0) {
    stats_.writes += 1;
  } else {
    stats_.write_errors += 1;
  }
}

bool TcpCoalescer::start(std::span<const uint8_t> packet) {
  TcpSegment seg;
  if (!parse_candidate(packet, seg)) return false;
  std::memcpy(held_.data(), packet.data(), packet.size());
  held_size_ = packet.size();
  headers_ = seg.headers;
  l4_offset_ = seg.l4;
  gso_size_ = seg.payload;
  segments_ = 1;
  next_seq_ = seg.seq + static_cast<uint32_t>(seg.payload);
  ipv6_ = seg.v6;
  closed_ = (seg.flags & kTcpPsh) != 0;
  return true;
}

bool TcpCoalescer::try_append(std::span<const uint8_t> p) {
  if (closed_ || segments_ >= kMaxSegments) return false;
  TcpSegment seg;
  if (!parse_candidate(p, seg)) return false;
  const uint8_t* h = held_.data();
  if (seg.v6 != ipv6_ || seg.headers != headers_ || seg.seq != next_seq_ || seg.payload > gso_size_ ||
      held_size_ + seg.payload > kMaxHeldBytes) {
    return false;
  }
  if (ipv6_) {
    // Version/traffic class/flow label, hop limit and both addresses.
    if (std::memcmp(h, p.data(), 4) != 0 || h[7] != p[7] || std::memcmp(h + 8, p.data() + 8, 32) != 0) return false;
  } else {
    if (h[1] != p[1] || h[8] != p[8] || (h[6] & 0x40) != (p[6] & 0x40) ||
        std::memcmp(h + 12, p.data() + 12, 8) != 0) {
      return false;
    }
  }
  const uint8_t* ht = h + l4_offset_;
  const uint8_t* pt = p.data() + l4_offset_;
  // Ports, ACK number, and every option byte (timestamps included) must agree.
  if (std::memcmp(ht, pt, 4) != 0 || std::memcmp(ht + 8, pt + 8, 4) != 0 ||
      std::memcmp(ht + 20, pt + 20, headers_ - l4_offset_ - 20) != 0) {
    return false;
  }
  std::memcpy(held_.data() + held_size_, p.data() + headers_, seg.payload);
  held_size_ += seg.payload;
  segments_ += 1;
  next_seq_ += static_cast<uint32_t>(seg.payload);
  held_[l4_offset_ + 14] = p[l4_offset_ + 14];  // the newest receive window
  held_[l4_offset_ + 15] = p[l4_offset_ + 15];
  if (seg.flags & kTcpPsh) held_[l4_offset_ + 13] |= kTcpPsh;
  closed_ = seg.payload < gso_size_ || (seg.flags & kTcpPsh) != 0;
  return true;
}

void TcpCoalescer::add(std::span<const uint8_t> packet) {
  if (!sink_.accepts_gso()) {
    write_plain(packet);
    return;
  }
  if (segments_ > 0 && try_append(packet)) return;
  flush();
  if (!start(packet)) write_plain(packet);
}

void TcpCoalescer::flush() {
  if (segments_ == 0) return;
  std::span<const uint8_t> packet(held_.data(), held_size_);
  if (segments_ == 1) {
    write_plain(packet);
    segments_ = 0;
    return;
  }
  uint8_t* h = held_.data();
  const uint32_t l4_length = static_cast<uint32_t>(held_size_ - l4_offset_);
  uint64_t pseudo;
  if (ipv6_) {
    store_be16(h + 4, static_cast<uint16_t>(held_size_ - 40));
    pseudo = pseudo_header_sum_v6(h + 8, h + 24, kProtoTcp, l4_length);
  } else {
    store_be16(h + 2, static_cast<uint16_t>(held_size_));
    set_ipv4_header_checksum(h);
    pseudo = pseudo_header_sum_v4(h + 12, h + 16, kProtoTcp, l4_length);
  }
  // CHECKSUM_PARTIAL convention: the field holds the folded, uncomplemented
  // pseudo-header sum; the kernel completes it per segment.
  while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
  store_be16(h + l4_offset_ + 16, static_cast<uint16_t>(pseudo));
  VirtioNetHdr hdr;
  hdr.flags = kVnetFlagNeedsCsum;
  hdr.gso_type = ipv6_ ? kVnetGsoTcpV6 : kVnetGsoTcpV4;
  hdr.hdr_len = static_cast<uint16_t>(headers_);
  hdr.gso_size = static_cast<uint16_t>(gso_size_);
  hdr.csum_start = static_cast<uint16_t>(l4_offset_);
  hdr.csum_offset = 16;
  if (sink_.write(hdr, packet) == 0) {
    stats_.writes += 1;
    stats_.merged += segments_;
  } else {
    stats_.write_errors += 1;
  }
  segments_ = 0;
}

CoalesceStats TcpCoalescer::take_stats() {
  CoalesceStats s = stats_;
  stats_ = CoalesceStats{};
  return s;
}

}  // namespace ergw::xfrm::io
