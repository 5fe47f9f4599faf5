// The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sums, for the
// fast path's userspace segmentation (GSO) and checksum completion of packets
// that the kernel handed over with offloads deferred (virtio_net_hdr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ergw::xfrm::io {

// One's-complement sum of `data` added to `initial`, not yet folded. Bytes are
// summed as big-endian 16-bit words (RFC 1071 §2); an odd tail is padded with 0.
uint64_t checksum_add(std::span<const uint8_t> data, uint64_t initial = 0);

// Folds a running sum to 16 bits and complements it: the value to store in a header.
uint16_t checksum_finish(uint64_t sum);

// Pseudo-header sums (RFC 793 §3.1, RFC 768, RFC 8200 §8.1) for `l4_length`
// bytes of transport header and payload with protocol `proto`.
uint64_t pseudo_header_sum_v4(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t l4_length);
uint64_t pseudo_header_sum_v6(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t l4_length);

// Recomputes the IPv4 header checksum in place (header length from IHL).
void set_ipv4_header_checksum(uint8_t* ipv4_header);

// Stores a 16-bit value big-endian / reads one.
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace ergw::xfrm::io
