// Userspace GRO for the inbound direction: consecutive decrypted TCP segments
// of one flow are joined into one large packet and written to the TUN device
// with a virtio_net_hdr asking the kernel for TSO (VIRTIO_NET_HDR_GSO_TCPV4/6).
// The kernel then forwards, routes and delivers one packet instead of dozens
// (the receive half of wireguard-go's TUN offload, tun/offload_linux.go in
// WireGuard/wireguard-go; docs/fastpath.md has the measurements).
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
  // Flows held at once: interleaved streams (iperf3 -P 4) still coalesce.
  static constexpr size_t kSlots = 8;

  explicit TcpCoalescer(const PacketSink& sink);

  // Offers one inner IPv4/IPv6 packet. It is written now, or held to be
  // merged with the next ones of its flow; call flush() at the end of every
  // batch. Order within a flow is kept (a packet that cannot be merged first
  // flushes what its flow has held).
  void add(std::span<const uint8_t> packet);
  void flush();

  const CoalesceStats& stats() const { return stats_; }
  CoalesceStats take_stats();

 private:
  struct Slot {
    std::vector<uint8_t> held;  // headers of the first segment + all payloads
    size_t size = 0;
    size_t headers = 0;  // IP + TCP header bytes
    size_t l4_offset = 0;
    size_t gso_size = 0;
    size_t segments = 0;  // 0 = free
    uint32_t next_seq = 0;
    uint64_t last_used = 0;
    bool ipv6 = false;
    bool closed = false;  // a short or PSH segment ended the train
  };

  bool try_append(Slot& slot, std::span<const uint8_t> packet);
  bool start(Slot& slot, std::span<const uint8_t> packet);
  void flush(Slot& slot);
  void write_plain(std::span<const uint8_t> packet);
  Slot* find_flow(std::span<const uint8_t> packet);

  const PacketSink& sink_;
  std::vector<Slot> slots_;
  uint64_t clock_ = 0;
  CoalesceStats stats_;
};

}  // namespace ergw::xfrm::io
