#include "xfrm/io/gso_segmenter.h"

#include <algorithm>
#include <cstring>

#include "xfrm/io/checksum.h"
#include "xfrm/io/tcp_header.h"

namespace ergw::xfrm::io {
namespace {

// Completes a checksum the kernel left partial: the field already holds the
// folded pseudo-header sum, so the sum from csum_start to the end is the answer.
OffloadVerdict complete_checksum(const VirtioNetHdr& hdr, std::span<uint8_t> packet) {
  const size_t field = size_t{hdr.csum_start} + hdr.csum_offset;
  if (hdr.csum_start >= packet.size() || field + 2 > packet.size()) return OffloadVerdict::kMalformed;
  uint16_t sum = checksum_finish(checksum_add(packet.subspan(hdr.csum_start)));
  // A computed 0 is sent as 0xffff: for UDP 0 means "no checksum" (RFC 768),
  // for TCP the two are the same value in one's complement.
  if (sum == 0) sum = 0xffff;
  store_be16(packet.data() + field, sum);
  return OffloadVerdict::kOk;
}

}  // namespace

OffloadVerdict GsoSegmenter::prepare(const VirtioNetHdr& hdr, std::span<uint8_t> packet) {
  packet_ = packet.data();
  packet_size_ = packet.size();
  count_ = 0;
  segmenting_ = false;
  if (packet.empty()) return OffloadVerdict::kMalformed;

  const uint8_t gso_type = hdr.gso_type & static_cast<uint8_t>(~kVnetGsoEcn);
  if (gso_type == kVnetGsoNone) {
    if (hdr.flags & kVnetFlagNeedsCsum) {
      OffloadVerdict verdict = complete_checksum(hdr, packet);
      if (verdict != OffloadVerdict::kOk) return verdict;
    }
    count_ = 1;
    return OffloadVerdict::kOk;
  }
  if (gso_type != kVnetGsoTcpV4 && gso_type != kVnetGsoTcpV6 && gso_type != kVnetGsoUdpL4) {
    return OffloadVerdict::kUnsupported;
  }

  const unsigned version = packet[0] >> 4;
  ipv6_ = version == 6;
  if (version != 4 && version != 6) return OffloadVerdict::kMalformed;
  if ((gso_type == kVnetGsoTcpV4 && ipv6_) || (gso_type == kVnetGsoTcpV6 && !ipv6_)) {
    return OffloadVerdict::kMalformed;
  }
  tcp_ = gso_type != kVnetGsoUdpL4;
  const size_t min_ip = ipv6_ ? 40 : 20;
  if (packet.size() < min_ip) return OffloadVerdict::kMalformed;

  // csum_start is where the transport header begins (it is always set for GSO
  // packets); it also steps over IPv6 extension headers for us.
  l4_offset_ = (hdr.flags & kVnetFlagNeedsCsum) ? hdr.csum_start : (ipv6_ ? 40 : size_t{packet[0] & 0x0fu} * 4);
  if (l4_offset_ < min_ip) return OffloadVerdict::kMalformed;
  if (!ipv6_ && packet[9] != (tcp_ ? kProtoTcp : kProtoUdp)) return OffloadVerdict::kMalformed;
  if (ipv6_ && l4_offset_ == 40 && packet[6] != (tcp_ ? kProtoTcp : kProtoUdp)) return OffloadVerdict::kMalformed;

  size_t l4_header = 8;
  if (tcp_) {
    if (l4_offset_ + 20 > packet.size()) return OffloadVerdict::kMalformed;
    l4_header = static_cast<size_t>(packet[l4_offset_ + 12] >> 4) * 4;
    if (l4_header < 20) return OffloadVerdict::kMalformed;
  }
  headers_size_ = l4_offset_ + l4_header;
  if (headers_size_ > packet.size()) return OffloadVerdict::kMalformed;
  gso_size_ = hdr.gso_size;
  if (gso_size_ == 0) return OffloadVerdict::kMalformed;
  const size_t payload = packet.size() - headers_size_;
  count_ = std::max<size_t>(1, (payload + gso_size_ - 1) / gso_size_);
  if (count_ > kMaxSegments) {
    count_ = 0;
    return OffloadVerdict::kMalformed;
  }
  segmenting_ = true;
  return OffloadVerdict::kOk;
}

size_t GsoSegmenter::segment_length(size_t index) const {
  if (!segmenting_) return packet_size_;
  const size_t payload = packet_size_ - headers_size_;
  const size_t offset = index * gso_size_;
  return headers_size_ + std::min(gso_size_, payload - std::min(payload, offset));
}

size_t GsoSegmenter::build_segment(size_t index, uint8_t* out) const {
  if (!segmenting_) {
    std::memcpy(out, packet_, packet_size_);
    return packet_size_;
  }
  const size_t payload_offset = index * gso_size_;
  const size_t length = segment_length(index);
  const size_t chunk = length - headers_size_;
  std::memcpy(out, packet_, headers_size_);
  std::memcpy(out + headers_size_, packet_ + headers_size_ + payload_offset, chunk);

  const size_t l4_length = length - l4_offset_;
  uint64_t pseudo;
  if (ipv6_) {
    store_be16(out + 4, static_cast<uint16_t>(length - 40));  // RFC 8200 §3 payload length
    pseudo = pseudo_header_sum_v6(out + 8, out + 24, tcp_ ? kProtoTcp : kProtoUdp, static_cast<uint32_t>(l4_length));
  } else {
    store_be16(out + 2, static_cast<uint16_t>(length));
    // Consecutive IDs, as the kernel's TSO does (RFC 6864 permits any for atomic datagrams).
    store_be16(out + 4, static_cast<uint16_t>(load_be16(packet_ + 4) + index));
    set_ipv4_header_checksum(out);
    pseudo = pseudo_header_sum_v4(out + 12, out + 16, tcp_ ? kProtoTcp : kProtoUdp, static_cast<uint32_t>(l4_length));
  }

  uint8_t* l4 = out + l4_offset_;
  size_t csum_field;
  if (tcp_) {
    store_be32(l4 + 4, static_cast<uint32_t>(load_be32(packet_ + l4_offset_ + 4) + payload_offset));
    uint8_t flags = l4[13];
    if (index + 1 != count_) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    if (index != 0) flags &= static_cast<uint8_t>(~kTcpCwr);
    l4[13] = flags;
    csum_field = 16;
  } else {
    store_be16(l4 + 4, static_cast<uint16_t>(l4_length));
    csum_field = 6;
  }
  l4[csum_field] = 0;
  l4[csum_field + 1] = 0;
  uint16_t sum = checksum_finish(checksum_add({l4, l4_length}, pseudo));
  if (sum == 0) sum = 0xffff;
  store_be16(l4 + csum_field, sum);
  return length;
}

}  // namespace ergw::xfrm::io
