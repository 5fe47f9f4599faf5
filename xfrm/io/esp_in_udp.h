// Demultiplexing of datagrams on the NAT-T port (RFC 3948). ESP, IKE and
// NAT-keepalives share UDP port 4500; the first octets tell them apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ergw::xfrm::io {

enum class UdpEncapKind : uint8_t {
  kEsp,        // starts with a non-zero SPI (RFC 3948 §2.1: "The SPI field ... MUST NOT be zero")
  kIke,        // starts with the 4-octet zero Non-ESP Marker (RFC 3948 §2.2): never decrypted
  kKeepalive,  // the single 0xFF octet of RFC 3948 §2.3: ignored
  kMalformed,  // too short for any of the above
};

// Smallest ESP packet we consider: SPI + sequence number (RFC 4303 §2).
inline constexpr size_t kMinEspSize = 8;
inline constexpr uint8_t kNatKeepaliveByte = 0xff;

inline UdpEncapKind classify_udp_encap(std::span<const uint8_t> payload) {
  if (payload.size() == 1 && payload[0] == kNatKeepaliveByte) return UdpEncapKind::kKeepalive;
  if (payload.size() < 4) return UdpEncapKind::kMalformed;
  if ((payload[0] | payload[1] | payload[2] | payload[3]) == 0) return UdpEncapKind::kIke;
  if (payload.size() < kMinEspSize) return UdpEncapKind::kMalformed;
  return UdpEncapKind::kEsp;
}

}  // namespace ergw::xfrm::io
