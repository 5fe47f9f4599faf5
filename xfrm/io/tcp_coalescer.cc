#include "xfrm/io/tcp_coalescer.h"

#include <cstring>

#include "xfrm/io/checksum.h"
#include "xfrm/io/tcp_header.h"

namespace ergw::xfrm::io {
namespace {

// IPv4 total length must fit in 16 bits (IPv6 payload length would allow 40
// more). The full 65535, not a rounder 65000: a sender's 64 KB TSO packet (47
// segments at MSS 1383) crosses the tunnel as a 44-datagram UDP GSO train plus
// a short one (a train is capped near 64 KB too, and ESP adds ~90 octets per
// segment). With 65000 the two halves could not be joined again, and every
// original packet cost two TUN writes, one of them tiny (docs/fastpath.md).
constexpr size_t kMaxHeldBytes = 65535;
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

// Where the TCP header starts when `p` is a TCP packet without IPv6
// extension headers; 0 otherwise.
size_t tcp_offset(std::span<const uint8_t> p) {
  if (p.size() < 40) return 0;
  if ((p[0] >> 4) == 4 && p[9] == kProtoTcp) {
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    return ihl >= 20 && ihl + 20 <= p.size() ? ihl : 0;
  }
  if ((p[0] >> 4) == 6 && p[6] == kProtoTcp && p.size() >= 60) return 40;
  return 0;
}

}  // namespace

TcpCoalescer::TcpCoalescer(const PacketSink& sink) : sink_(sink), slots_(kSlots) {
  for (Slot& slot : slots_) slot.held.resize(65536);
}

void TcpCoalescer::write_plain(std::span<const uint8_t> packet) {
  if (sink_.write(VirtioNetHdr{}, packet) == 0) {
    stats_.writes += 1;
  } else {
    stats_.write_errors += 1;
  }
}

TcpCoalescer::Slot* TcpCoalescer::find_flow(std::span<const uint8_t> p) {
  const size_t l4 = tcp_offset(p);
  if (l4 == 0) return nullptr;
  const bool v6 = (p[0] >> 4) == 6;
  for (Slot& slot : slots_) {
    if (slot.segments == 0 || slot.ipv6 != v6) continue;
    const uint8_t* h = slot.held.data();
    const bool same_addresses = v6 ? std::memcmp(h + 8, p.data() + 8, 32) == 0
                                   : std::memcmp(h + 12, p.data() + 12, 8) == 0;
    if (same_addresses && std::memcmp(h + slot.l4_offset, p.data() + l4, 4) == 0) return &slot;
  }
  return nullptr;
}

bool TcpCoalescer::start(Slot& slot, std::span<const uint8_t> packet) {
  TcpSegment seg;
  if (!parse_candidate(packet, seg)) return false;
  std::memcpy(slot.held.data(), packet.data(), packet.size());
  slot.size = packet.size();
  slot.headers = seg.headers;
  slot.l4_offset = seg.l4;
  slot.gso_size = seg.payload;
  slot.segments = 1;
  slot.next_seq = seg.seq + static_cast<uint32_t>(seg.payload);
  slot.ipv6 = seg.v6;
  slot.closed = (seg.flags & kTcpPsh) != 0;
  slot.last_used = ++clock_;
  return true;
}

bool TcpCoalescer::try_append(Slot& slot, std::span<const uint8_t> p) {
  if (slot.closed || slot.segments >= kMaxSegments) return false;
  TcpSegment seg;
  if (!parse_candidate(p, seg)) return false;
  uint8_t* h = slot.held.data();
  if (seg.v6 != slot.ipv6 || seg.headers != slot.headers || seg.seq != slot.next_seq ||
      seg.payload > slot.gso_size || slot.size + seg.payload > kMaxHeldBytes) {
    return false;
  }
  if (slot.ipv6) {
    // Version/traffic class/flow label, hop limit and both addresses.
    if (std::memcmp(h, p.data(), 4) != 0 || h[7] != p[7] || std::memcmp(h + 8, p.data() + 8, 32) != 0) return false;
  } else {
    if (h[1] != p[1] || h[8] != p[8] || (h[6] & 0x40) != (p[6] & 0x40) ||
        std::memcmp(h + 12, p.data() + 12, 8) != 0) {
      return false;
    }
  }
  const size_t l4 = slot.l4_offset;
  const uint8_t* ht = h + l4;
  const uint8_t* pt = p.data() + l4;
  // Ports, ACK number, and every option byte (timestamps included) must agree.
  if (std::memcmp(ht, pt, 4) != 0 || std::memcmp(ht + 8, pt + 8, 4) != 0 ||
      std::memcmp(ht + 20, pt + 20, slot.headers - l4 - 20) != 0) {
    return false;
  }
  std::memcpy(h + slot.size, p.data() + slot.headers, seg.payload);
  slot.size += seg.payload;
  slot.segments += 1;
  slot.next_seq += static_cast<uint32_t>(seg.payload);
  h[l4 + 14] = p[l4 + 14];  // the newest receive window
  h[l4 + 15] = p[l4 + 15];
  if (seg.flags & kTcpPsh) h[l4 + 13] |= kTcpPsh;
  slot.closed = seg.payload < slot.gso_size || (seg.flags & kTcpPsh) != 0;
  slot.last_used = ++clock_;
  return true;
}

void TcpCoalescer::add(std::span<const uint8_t> packet) {
  if (!sink_.accepts_gso()) {
    write_plain(packet);
    return;
  }
  Slot* slot = find_flow(packet);
  if (slot != nullptr) {
    if (try_append(*slot, packet)) return;
    flush(*slot);  // keeps the flow in order
  } else {
    for (Slot& s : slots_) {
      if (s.segments == 0) {
        slot = &s;
        break;
      }
    }
    if (slot == nullptr) {
      slot = &slots_[0];
      for (Slot& s : slots_) {
        if (s.last_used < slot->last_used) slot = &s;
      }
      flush(*slot);
    }
  }
  if (!start(*slot, packet)) write_plain(packet);
}

void TcpCoalescer::flush() {
  for (Slot& slot : slots_) flush(slot);
}

void TcpCoalescer::flush(Slot& slot) {
  if (slot.segments == 0) return;
  std::span<const uint8_t> packet(slot.held.data(), slot.size);
  if (slot.segments == 1) {
    write_plain(packet);
    slot.segments = 0;
    return;
  }
  uint8_t* h = slot.held.data();
  const uint32_t l4_length = static_cast<uint32_t>(slot.size - slot.l4_offset);
  uint64_t pseudo;
  if (slot.ipv6) {
    store_be16(h + 4, static_cast<uint16_t>(slot.size - 40));
    pseudo = pseudo_header_sum_v6(h + 8, h + 24, kProtoTcp, l4_length);
  } else {
    store_be16(h + 2, static_cast<uint16_t>(slot.size));
    set_ipv4_header_checksum(h);
    pseudo = pseudo_header_sum_v4(h + 12, h + 16, kProtoTcp, l4_length);
  }
  // CHECKSUM_PARTIAL convention: the field holds the folded, uncomplemented
  // pseudo-header sum; the kernel completes it per segment.
  while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
  store_be16(h + slot.l4_offset + 16, static_cast<uint16_t>(pseudo));
  VirtioNetHdr hdr;
  hdr.flags = kVnetFlagNeedsCsum;
  hdr.gso_type = slot.ipv6 ? kVnetGsoTcpV6 : kVnetGsoTcpV4;
  hdr.hdr_len = static_cast<uint16_t>(slot.headers);
  hdr.gso_size = static_cast<uint16_t>(slot.gso_size);
  hdr.csum_start = static_cast<uint16_t>(slot.l4_offset);
  hdr.csum_offset = 16;
  if (sink_.write(hdr, packet) == 0) {
    stats_.writes += 1;
    stats_.merged += slot.segments;
  } else {
    stats_.write_errors += 1;
  }
  slot.segments = 0;
}

CoalesceStats TcpCoalescer::take_stats() {
  CoalesceStats s = stats_;
  stats_ = CoalesceStats{};
  return s;
}

}  // namespace ergw::xfrm::io
