// Counters of the fast path's I/O stages, declared once (X-macro) so that the
// enum, the names printed on SIGUSR1 and the arrays cannot drift apart. ESP
// drops (ICV, replay, ...) are counted per SA by the engine (xfrm/esp).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

// X(identifier, "what it counts")
#define ERGW_FASTPATH_IO_COUNTERS(X)                                                             \
  X(tun_reads, "packets read from TUN (a TSO/USO packet counts once)")                          \
  X(tun_gso_reads, "TSO/USO packets among them, segmented in userspace")                        \
  X(tun_segments, "inner packets after segmentation, offered to ESP")                           \
  X(tun_writes, "writes to TUN (a coalesced TCP packet counts once)")                           \
  X(tun_gro_merged, "decrypted TCP segments merged into larger TUN writes (userspace GRO)")      \
  X(tun_write_errors, "writes to TUN the kernel refused")                                        \
  X(tun_read_errors, "reads from TUN that failed")                                               \
  X(drop_offload_malformed, "TUN packet whose headers contradict its virtio_net_hdr")            \
  X(drop_offload_unsupported, "TUN packet with a GSO type we did not enable")                    \
  X(drop_not_ip, "TUN packet that is not IPv4/IPv6")                                             \
  X(drop_no_policy, "inner packet matching no out policy (e.g. IPv6 ND of the TUN itself)")     \
  X(drop_no_outbound_sa, "inner packet whose out policy's connection has no outbound SA")        \
  X(outer_sent, "ESP datagrams handed to the kernel")                                            \
  X(outer_send_calls, "sendmmsg message entries (a UDP GSO train counts once)")                  \
  X(outer_send_errors, "ESP datagrams the kernel refused to send")                               \
  X(udp_gso_fallbacks, "sockets that lost UDP GSO after EIO")                                    \
  X(outer_received, "datagrams received on outer sockets (after GRO split)")                    \
  X(outer_gro_messages, "received messages that carried several coalesced datagrams")            \
  X(outer_recv_errors, "receive calls that failed")                                              \
  X(ike_marker_dropped, "IKE datagrams (RFC 3948 non-ESP marker) on the ESP port: not decrypted") \
  X(nat_keepalives_received, "RFC 3948 NAT-keepalives received and ignored")                    \
  X(nat_keepalives_sent, "RFC 3948 NAT-keepalives sent")                                         \
  X(drop_udp_malformed, "UDP datagrams too short to be ESP, IKE or a keepalive")                 \
  X(drop_raw_malformed, "raw protocol-50 packets with a broken outer IPv4 header")               \
  X(drop_truncated_outer, "datagrams larger than the receive buffer")                            \
  X(drop_wrong_encap, "ESP for a UDP SA on the raw socket, or for a raw SA over UDP")            \
  X(drop_inner_selector, "decrypted inner packet outside the SA selectors (RFC 4301 5.2)")    \
  X(drop_no_inbound_policy, "decrypted packet of a connection without an in policy")           \
  X(drop_policy, "inner packet matching a drop policy")                                         \
  X(drop_no_socket, "outbound packet for an encapsulation whose socket is not open (yet)")     \
  X(nat_mappings, "ESP-in-UDP from a new peer address or port, reported to charon")             \
  X(larval_held, "ESP for an SPI allocated but not yet installed, held for its SA")             \
  X(larval_delivered, "held ESP decrypted once its SA was installed")                           \
  X(larval_dropped, "ESP for an allocated SPI dropped: hold full, SA too late or never (also unknown_spi)")

namespace ergw::xfrm::fastpath {

enum class IoCounter : uint8_t {
#define ERGW_FP_X(name, text) name,
  ERGW_FASTPATH_IO_COUNTERS(ERGW_FP_X)
#undef ERGW_FP_X
};

inline constexpr size_t kIoCounterCount = 0
#define ERGW_FP_X(name, text) +1
    ERGW_FASTPATH_IO_COUNTERS(ERGW_FP_X)
#undef ERGW_FP_X
    ;

inline constexpr std::array<std::string_view, kIoCounterCount> kIoCounterNames = {
#define ERGW_FP_X(name, text) #name,
    ERGW_FASTPATH_IO_COUNTERS(ERGW_FP_X)
#undef ERGW_FP_X
};

// A worker counts into plain integers for a batch, then publishes the batch
// with one relaxed add per counter that moved: the main thread reads the
// shared totals while workers run (SIGUSR1) without a data race.
struct LocalIoCounters {
  std::array<uint64_t, kIoCounterCount> value{};
  void add(IoCounter counter, uint64_t n = 1) { value[static_cast<size_t>(counter)] += n; }
};

struct SharedIoCounters {
  std::array<std::atomic<uint64_t>, kIoCounterCount> value{};

  void publish(LocalIoCounters& local) {
    for (size_t i = 0; i < kIoCounterCount; ++i) {
      if (local.value[i] != 0) {
        value[i].fetch_add(local.value[i], std::memory_order_relaxed);
        local.value[i] = 0;
      }
    }
  }
  uint64_t get(IoCounter counter) const { return value[static_cast<size_t>(counter)].load(std::memory_order_relaxed); }
};

}  // namespace ergw::xfrm::fastpath
