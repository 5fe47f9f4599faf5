// Helpers shared by the ESP engine tests: hex, inner packets, SA configs, and
// a raw sealer that builds ESP packets with arbitrary (even malformed)
// plaintext, for negative tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xfrm/esp/byte_order.h"
#include "xfrm/esp/engine.h"
#include "xfrm/esp/sa_config.h"
#include "xfrm/esp/sa_table.h"
#include "xfrm/esp/thread_slot.h"
#include "xfrm/esp/transform.h"

namespace ergw::xfrm::esp::testing {

inline std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;  // spaces, line breaks
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

// A syntactically valid inner packet of `length` octets (>= 20 / >= 40).
inline std::vector<uint8_t> inner_packet(int version, size_t length, uint8_t fill = 0xab) {
  std::vector<uint8_t> p(length, fill);
  if (version == 4) {
    p[0] = 0x45;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(length >> 8);
    p[3] = static_cast<uint8_t>(length);
    p[9] = 17;
  } else {
    p[0] = 0x60;
    p[1] = p[2] = p[3] = 0;
    p[4] = static_cast<uint8_t>((length - 40) >> 8);
    p[5] = static_cast<uint8_t>(length - 40);
    p[6] = 17;
    p[7] = 64;
  }
  return p;
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
  return out;
}

inline SaConfig make_config(const Algorithm& algorithm, Direction direction, bool esn,
                            uint32_t spi = 0x1000, CryptoBackend backend = CryptoBackend::openssl) {
  SaConfig c;
  c.spi = spi;
  c.direction = direction;
  c.local = *IpAddress::parse("192.0.2.1");
  c.remote = *IpAddress::parse("198.51.100.1");
  c.algorithm = algorithm;
  c.encryption_key = pattern(algorithm.key_bytes(), 0x11);
  c.gcm_salt = {0xde, 0xad, 0xbe, 0xef};
  if (!algorithm.is_aead()) c.integrity_key = pattern(algorithm.integrity_key_bytes(), 0x55);
  c.esn = esn;
  c.backend = backend;
  return c;
}

inline SaConfig mirror(const SaConfig& config) {
  SaConfig other = config;
  other.direction =
      config.direction == Direction::inbound ? Direction::outbound : Direction::inbound;
  return other;
}

inline std::vector<Algorithm> all_algorithms() {
  std::vector<Algorithm> out;
  for (uint16_t bits : {128, 192, 256}) {
    out.push_back({Encryption::aes_gcm_16, bits, Integrity::none});
    for (Integrity i : {Integrity::hmac_sha1_96, Integrity::hmac_sha256_128, Integrity::hmac_sha384_192}) {
      out.push_back({Encryption::aes_cbc, bits, i});
    }
  }
  return out;
}

// A packet buffer with headroom and tailroom around an inner packet.
struct PacketBuffer {
  std::vector<uint8_t> bytes;
  size_t inner_offset = 64;
  size_t inner_length = 0;

  explicit PacketBuffer(const std::vector<uint8_t>& inner) : bytes(64 + inner.size() + kEspTailroom) {
    std::copy(inner.begin(), inner.end(), bytes.begin() + 64);
    inner_length = inner.size();
  }
  std::span<uint8_t> span() { return bytes; }
};

// Encapsulates `inner` with `sa`; returns the ESP payload (empty on drop).
inline std::vector<uint8_t> encap(Sa& sa, const std::vector<uint8_t>& inner, EncapResult* out = nullptr) {
  PacketBuffer buffer(inner);
  const EncapResult r = encapsulate(sa, buffer.span(), buffer.inner_offset, buffer.inner_length);
  if (out != nullptr) *out = r;
  if (!r.ok) return {};
  return {buffer.bytes.begin() + static_cast<std::ptrdiff_t>(r.esp_offset),
          buffer.bytes.begin() + static_cast<std::ptrdiff_t>(r.esp_offset + r.esp_length)};
}

// Seals an arbitrary plaintext (the caller supplies payload, padding, pad
// length and next header) with the outbound twin of `config`, as a buggy or
// hostile but key-holding peer would.
inline std::vector<uint8_t> seal_raw(const SaConfig& config, uint64_t seq,
                                     const std::vector<uint8_t>& plaintext) {
  SaConfig out = config;
  out.direction = Direction::outbound;
  auto transform = make_transform(out, 0x0102030405060708ULL);
  EXPECT_TRUE(transform.ok());
  auto& t = *transform.value();
  std::vector<uint8_t> packet(t.header_bytes() + plaintext.size() + t.icv_bytes());
  store_be32(packet.data(), config.spi);
  store_be32(packet.data() + 4, static_cast<uint32_t>(seq));
  std::copy(plaintext.begin(), plaintext.end(), packet.begin() + static_cast<std::ptrdiff_t>(t.header_bytes()));
  EXPECT_TRUE(t.seal(current_thread_slot(), packet.data(), plaintext.size(), seq));
  return packet;
}

// Inner packet + RFC 4303 trailer padded to `align`, with knobs to break it.
inline std::vector<uint8_t> trailer_plaintext(const std::vector<uint8_t>& inner, size_t align,
                                              uint8_t next_header, bool corrupt_padding = false) {
  std::vector<uint8_t> p = inner;
  size_t pad = (align - (inner.size() + 2) % align) % align;
  if (corrupt_padding && pad == 0) pad = align;  // force some padding to corrupt
  for (size_t i = 0; i < pad; ++i) p.push_back(static_cast<uint8_t>(i + 1));
  if (corrupt_padding) p[inner.size()] ^= 0x80;
  p.push_back(static_cast<uint8_t>(pad));
  p.push_back(next_header);
  return p;
}

}  // namespace ergw::xfrm::esp::testing
