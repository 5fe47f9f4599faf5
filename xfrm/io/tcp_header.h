// The IP protocol numbers and TCP flag bits that the offload code (GSO
// segmentation, TCP coalescing) reads from inner packets (RFC 9293 section 3.1).
#pragma once

#include <cstdint>

namespace ergw::xfrm::io {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpCwr = 0x80;

}  // namespace ergw::xfrm::io
