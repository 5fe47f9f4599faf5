// Userspace GRO for the inbound direction: consecutive decrypted TCP segments
// of one flow are joined into one large packet and written to the TUN device
// with a virtio_net_hdr asking the kernel for TSO (VIRTIO_NET_HDR_GSO_TCPV4/6).
// The kernel then forwards, routes and delivers one packet instead of dozens
// (the receive half of wireguard-go's TUN offload, fastpath.md §1.6, §2).
//
// The rules follow Linux's tcp_gro_receive(): same addresses, ports, ACK
// number and TCP options; contiguous sequence numbers; only ACK (and PSH on
// the last segment) set; every segment but the last exactly gso_size long;
// IPv4 without options or fragmentation, same TTL/TOS/DF; IPv6 without
// extension headers. A segment whose checksum does not verify is never merged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "xfrm/io/tun_device.h"

namespace ergw::xfrm::io {

struct CoalesceStats {
  uint64_t writes = 0;        // packets written to the sink (a merged one counts once)
  uint64_t write_errors = 0;
  uint64_t merged = 0;        // segments that went into a larger packet
};

class TcpCoalescer {
 public:
  explicit TcpCoalescer(const PacketSink& sink);

  // Offers one inner IPv4/IPv6 packet. It is written now, or held to be
  // merged with the next ones; call flush() at the end of every batch.
  void add(std::span<const uint8_t> packet);
  void flush();

  const CoalesceStats& stats() const { return stats_; }
  CoalesceStats take_stats();

 private:
  bool try_append(std::span<const uint8_t> packet);
  bool start(std::span<const uint8_t> packet);
  void write_plain(std::span<const uint8_t> packet);

  const PacketSink& sink_;
  std::vector<uint8_t> held_;  // headers of the first segment + all payloads
  size_t held_size_ = 0;
  size_t headers_ = 0;         // IP + TCP header bytes
  size_t l4_offset_ = 0;
  size_t gso_size_ = 0;
  size_t segments_ = 0;
  uint32_t next_seq_ = 0;
  bool ipv6_ = false;
  bool closed_ = false;        // a short or PSH segment ended the train
  CoalesceStats stats_;
};

}  // namespace ergw::xfrm::io
