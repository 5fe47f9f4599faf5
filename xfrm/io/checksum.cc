#include "xfrm/io/checksum.h"

#include <bit>
#include <cstring>

namespace ergw::xfrm::io {

namespace {

uint64_t fold16(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

// Sum of the 32-bit halves of native 64-bit words. Four accumulators of
// 33-bit additions cannot overflow for any packet, and the loop needs no byte
// swaps: the one's complement sum does not depend on byte order if the result
// is swapped once at the end (RFC 1071 §2 (B)). Several times faster than
// big-endian 32-bit words one at a time, and this runs over every octet the
// fast path carries (segmentation on the way out, GRO checks on the way in).
uint64_t native_sum(const uint8_t* p, size_t words) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  auto half_sum = [](const uint8_t* q) {
    uint64_t w;
    std::memcpy(&w, q, sizeof(w));
    return (w & 0xffffffffu) + (w >> 32);
  };
  size_t i = 0;
  for (; i + 4 <= words; i += 4, p += 32) {
    a += half_sum(p);
    b += half_sum(p + 8);
    c += half_sum(p + 16);
    d += half_sum(p + 24);
  }
  for (; i < words; ++i, p += 8) a += half_sum(p);
  return a + b + c + d;
}

}  // namespace

uint64_t checksum_add(std::span<const uint8_t> data, uint64_t initial) {
  uint64_t sum = initial;
  const uint8_t* p = data.data();
  size_t n = data.size();
  if constexpr (std::endian::native == std::endian::little) {
    if (n >= 8) {
      const uint64_t folded = fold16(native_sum(p, n / 8));
      sum += ((folded & 0xff) << 8) | (folded >> 8);  // into network byte order
      p += n / 8 * 8;
      n %= 8;
    }
  }
  // The tail (and everything on a big-endian host): 32-bit big-endian words
  // into a 64-bit accumulator, carries folded once at the end (RFC 1071 §4.1).
  while (n >= 4) {
    sum += load_be32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    sum += load_be16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) sum += uint64_t{p[0]} << 8;
  return sum;
}

uint16_t checksum_finish(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint64_t pseudo_header_sum_v4(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t l4_length) {
  uint64_t sum = checksum_add({src, 4});
  sum = checksum_add({dst, 4}, sum);
  return sum + proto + l4_length;
}

uint64_t pseudo_header_sum_v6(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t l4_length) {
  uint64_t sum = checksum_add({src, 16});
  sum = checksum_add({dst, 16}, sum);
  return sum + proto + l4_length;
}

void set_ipv4_header_checksum(uint8_t* ipv4_header) {
  const size_t ihl = size_t{ipv4_header[0] & 0x0fu} * 4;
  ipv4_header[10] = 0;
  ipv4_header[11] = 0;
  store_be16(ipv4_header + 10, checksum_finish(checksum_add({ipv4_header, ihl})));
}

}  // namespace ergw::xfrm::io
