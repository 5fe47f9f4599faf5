// The outer side of the fast path: sockets that carry ESP payloads.
//   udp:     ESP-in-UDP (RFC 3948), normally port 4500, shared with IKE.
//   raw_esp: IP protocol 50 (RFC 4303 §2) on a raw socket; the kernel builds
//            the outer IP header on send and (IPv4 only) shows it on receive.
// UDP sockets use UDP_SEGMENT (GSO, Linux 4.18) to send a train of equal-size
// datagrams in one call and UDP_GRO (Linux 5.0; reliable from 5.12) to receive
// one, when the kernel offers them; both are detected and reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "xfrm/io/socket_address.h"

namespace ergw::xfrm::io {

enum class OuterKind : uint8_t { udp, raw_esp };

struct OuterSocketOptions {
  OuterKind kind = OuterKind::udp;
  IpAddress local;
  uint16_t port = 4500;        // udp only
  bool reuse_port = false;     // SO_REUSEPORT: one socket per worker queue, or shared with charon
  bool reuse_addr = false;     // SO_REUSEADDR: lets charon rebind its NAT-T port while we hold it
  bool gso = true;             // try UDP_SEGMENT
  bool gro = true;             // try UDP_GRO
  int buffer_bytes = 7 << 20;  // SO_{SND,RCV}BUF(FORCE); wireguard-go f26efb6 found 7 MB
};

struct OuterCapabilities {
  bool gso = false;
  bool gro = false;
  std::string note;
  std::string describe() const;
};

class OuterSocket {
 public:
  static Result<OuterSocket> open(const OuterSocketOptions& options);

  OuterSocket(OuterSocket&& other) noexcept;
  OuterSocket& operator=(OuterSocket&& other) noexcept;
  OuterSocket(const OuterSocket&) = delete;
  OuterSocket& operator=(const OuterSocket&) = delete;
  ~OuterSocket();

  int fd() const { return fd_; }
  OuterKind kind() const { return kind_; }
  bool ipv6() const { return ipv6_; }
  const OuterCapabilities& capabilities() const { return caps_; }
  const std::string& label() const { return label_; }
  // The bound UDP port (useful when bound to port 0).
  uint16_t local_port() const;
  // After sendmmsg() fails with EIO the egress device cannot checksum GSO
  // trains (wireguard-go 6a84778): fall back to one datagram per message.
  bool gso_enabled() const { return caps_.gso; }
  void disable_gso() { caps_.gso = false; }

 private:
  OuterSocket() = default;

  int fd_ = -1;
  OuterKind kind_ = OuterKind::udp;
  bool ipv6_ = false;
  OuterCapabilities caps_;
  std::string label_;
};

}  // namespace ergw::xfrm::io
