// The inner side of the fast path: a layer-3 TUN device (IFF_TUN|IFF_NO_PI).
//
// Where the kernel offers it, the device is opened with IFF_VNET_HDR and
// TUNSETOFFLOAD so the stack hands over TCP (TSO) and UDP (USO, Linux 6.2+)
// segments of up to 64 KB with checksums deferred: one read() then carries
// dozens of packets' worth of data, the technique that made wireguard-go
// faster than kernel WireGuard (docs/fastpath.md "I/O"). Without it the device
// works plainly, one MTU-sized packet per read(). With more than one queue the
// device is IFF_MULTI_QUEUE and every queue has its own file descriptor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "xfrm/io/virtio_net_hdr.h"

namespace ergw::xfrm::io {

struct TunOptions {
  std::string name = "ergw0";  // created if absent (needs CAP_NET_ADMIN)
  size_t queues = 1;           // > 1 needs IFF_MULTI_QUEUE (Linux 3.8+)
  bool offload = true;         // try IFF_VNET_HDR + TUNSETOFFLOAD
  int mtu = 0;                 // set when > 0
  bool bring_up = true;        // set IFF_UP
};

// What the kernel agreed to, reported at start.
struct TunCapabilities {
  bool vnet_hdr = false;     // packets carry a VirtioNetHdr
  bool csum = false;         // TUN_F_CSUM: partial checksums
  bool tso = false;          // TUN_F_TSO4|TUN_F_TSO6
  bool uso = false;          // TUN_F_USO4|TUN_F_USO6
  bool multi_queue = false;  // IFF_MULTI_QUEUE
  std::string note;          // why something is off, for the start-up report

  std::string describe() const;
};

class TunDevice {
 public:
  static Result<TunDevice> open(const TunOptions& options);

  TunDevice(TunDevice&& other) noexcept;
  TunDevice& operator=(TunDevice&& other) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;
  ~TunDevice();

  const std::string& name() const { return name_; }
  const TunCapabilities& capabilities() const { return caps_; }
  size_t queue_count() const { return fds_.size(); }
  // Non-blocking; poll() it for readability.
  int queue_fd(size_t queue) const { return fds_[queue]; }

 private:
  TunDevice() = default;
  void close_all();

  std::string name_;
  TunCapabilities caps_;
  std::vector<int> fds_;
};

// Where decrypted packets go: a TUN queue, or a recorder in tests.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // Writes one IP packet, with `hdr` describing any offload (GSO, partial
  // checksum); hdr must be all zero when the sink has no virtio header.
  // Returns 0 or -errno.
  virtual int write(const VirtioNetHdr& hdr, std::span<const uint8_t> packet) const = 0;
  // True when write() honours GSO headers (IFF_VNET_HDR).
  virtual bool accepts_gso() const = 0;
};

// Per-queue packet I/O. Reads return the virtio header (zero when the device
// has none) and the IP packet; writes prepend a zero header when needed.
class TunQueue : public PacketSink {
 public:
  TunQueue(int fd, bool vnet_hdr) : fd_(fd), vnet_hdr_(vnet_hdr) {}

  // Reads one packet (possibly a 64 KB GSO packet) into `buffer`.
  // Returns its IP length, 0 when nothing is pending (EAGAIN), -errno on error.
  long read(VirtioNetHdr& hdr, std::span<uint8_t> buffer) const;
  // Writes one IP packet. Returns 0 or -errno.
  int write(std::span<const uint8_t> packet) const { return write(VirtioNetHdr{}, packet); }
  int write(const VirtioNetHdr& hdr, std::span<const uint8_t> packet) const override;
  bool accepts_gso() const override { return vnet_hdr_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  bool vnet_hdr_;
};

}  // namespace ergw::xfrm::io
