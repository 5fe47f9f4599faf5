// The 10-byte header that precedes every packet on a TUN device opened with
// IFF_VNET_HDR (linux/virtio_net.h, virtio spec §5.1.6). In host byte order:
// the fast path never sets TUNSETVNETBE, and x86 and arm64 are little-endian.
#pragma once

#include <cstdint>

namespace ergw::xfrm::io {

struct VirtioNetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
};
static_assert(sizeof(VirtioNetHdr) == 10);

inline constexpr uint8_t kVnetFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kVnetGsoNone = 0;
inline constexpr uint8_t kVnetGsoTcpV4 = 1;
inline constexpr uint8_t kVnetGsoUdp = 3;  // legacy UFO, never enabled by us
inline constexpr uint8_t kVnetGsoTcpV6 = 4;
inline constexpr uint8_t kVnetGsoUdpL4 = 5;  // USO, Linux 6.2+
inline constexpr uint8_t kVnetGsoEcn = 0x80;

}  // namespace ergw::xfrm::io
