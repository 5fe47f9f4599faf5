// Userspace segmentation of the "monster" packets a TUN device hands over when
// TSO/USO is enabled with TUNSETOFFLOAD (IFF_VNET_HDR). ESP cannot carry a
// 64 KB TCP segment, so the fast path cuts it into MSS-sized packets exactly as
// the kernel's GSO would have (RFC 9293 §3.1 sequence numbers, RFC 791 IDs),
// and completes the checksums the kernel deferred (VIRTIO_NET_HDR_F_NEEDS_CSUM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "xfrm/io/virtio_net_hdr.h"

namespace ergw::xfrm::io {

enum class OffloadVerdict : uint8_t {
  kOk,
  kMalformed,    // headers disagree with the virtio_net_hdr or are truncated
  kUnsupported,  // a gso_type the fast path did not ask for (e.g. legacy UFO)
};

class GsoSegmenter {
 public:
  // Most segments one packet may produce: 64 KB / 64 B, with margin.
  static constexpr size_t kMaxSegments = 1024;

  // Prepares `packet` (an IP packet, after the virtio_net_hdr). A packet that
  // needs no segmentation gets any deferred checksum completed in place; then
  // single() is true and the caller uses `packet` itself.
  OffloadVerdict prepare(const VirtioNetHdr& hdr, std::span<uint8_t> packet);

  bool single() const { return count_ == 1 && !segmenting_; }
  size_t segment_count() const { return count_; }
  size_t segment_length(size_t index) const;

  // Writes segment `index` (< segment_count()) into `out`, which holds at least
  // segment_length(index) bytes; returns the length written.
  size_t build_segment(size_t index, uint8_t* out) const;

 private:
  const uint8_t* packet_ = nullptr;
  size_t packet_size_ = 0;
  size_t l4_offset_ = 0;
  size_t headers_size_ = 0;  // IP + extension + TCP/UDP headers
  size_t gso_size_ = 0;
  size_t count_ = 0;
  bool segmenting_ = false;
  bool ipv6_ = false;
  bool tcp_ = false;
};

}  // namespace ergw::xfrm::io
