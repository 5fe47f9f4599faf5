#include "xfrm/io/tun_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/system_error.h"

// Linux 6.2 (commit "tun: support UDP segmentation offload"); the build
// machine's headers may predate them.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace ergw::xfrm::io {
namespace {

Result<int> attach_queue(const std::string& name, short flags) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return system_error("open /dev/net/tun", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = flags;
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    Error error = system_error("TUNSETIFF " + name, errno);
    ::close(fd);
    return error;
  }
  return fd;
}

// Asks for the richest offload set first and steps down: USO is Linux 6.2+,
// and older kernels refuse unknown bits with EINVAL.
void negotiate_offload(int fd, TunCapabilities& caps) {
  const unsigned tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (::ioctl(fd, TUNSETOFFLOAD, tso | TUN_F_USO4 | TUN_F_USO6) == 0) {
    caps.csum = caps.tso = caps.uso = true;
    return;
  }
  if (::ioctl(fd, TUNSETOFFLOAD, tso) == 0) {
    caps.csum = caps.tso = true;
    caps.note += "TUN USO refused (needs Linux 6.2); ";
    return;
  }
  if (::ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0) {
    caps.csum = true;
    caps.note += "TUN TSO refused; ";
    return;
  }
  caps.note += "TUNSETOFFLOAD refused; ";
}

Status configure_link(const std::string& name, const TunOptions& options) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return system_error("socket for link setup", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  Status status;
  if (options.mtu > 0) {
    ifr.ifr_mtu = options.mtu;
    if (::ioctl(sock, SIOCSIFMTU, &ifr) < 0) status = system_error("SIOCSIFMTU", errno);
  }
  if (status.ok() && options.bring_up) {
    if (::ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
      status = system_error("SIOCGIFFLAGS", errno);
    } else {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      if (::ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) status = system_error("SIOCSIFFLAGS", errno);
    }
  }
  ::close(sock);
  return status;
}

}  // namespace

std::string TunCapabilities::describe() const {
  std::string text = "vnet_hdr=";
  text += vnet_hdr ? "yes" : "no";
  text += " csum=";
  text += csum ? "yes" : "no";
  text += " tso=";
  text += tso ? "yes" : "no";
  text += " uso=";
  text += uso ? "yes" : "no";
  text += " multi_queue=";
  text += multi_queue ? "yes" : "no";
  if (!note.empty()) text += " (" + note.substr(0, note.size() - 2) + ")";
  return text;
}

Result<TunDevice> TunDevice::open(const TunOptions& options) {
  if (options.name.empty() || options.name.size() >= IFNAMSIZ) {
    return Error{"tun name must be 1-" + std::to_string(IFNAMSIZ - 1) + " characters"};
  }
  if (options.queues == 0) return Error{"tun queues must be at least 1"};

  TunDevice device;
  device.name_ = options.name;

  unsigned features = 0;
  {
    int probe = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (probe < 0) return system_error("open /dev/net/tun", errno);
    if (::ioctl(probe, TUNGETFEATURES, &features) < 0) features = 0;
    ::close(probe);
  }

  short flags = IFF_TUN | IFF_NO_PI;
  if (options.offload) {
    if (features & IFF_VNET_HDR) {
      flags |= IFF_VNET_HDR;
    } else {
      device.caps_.note += "IFF_VNET_HDR not offered; ";
    }
  } else {
    device.caps_.note += "offload disabled by option; ";
  }
  if (options.queues > 1) {
    if (!(features & IFF_MULTI_QUEUE)) return Error{"tun queues > 1 but the kernel lacks IFF_MULTI_QUEUE"};
    flags |= IFF_MULTI_QUEUE;
    device.caps_.multi_queue = true;
  }

  for (size_t q = 0; q < options.queues; ++q) {
    Result<int> fd = attach_queue(options.name, flags);
    if (!fd.ok()) return Error{fd.error()};
    device.fds_.push_back(*fd);
  }

  if (flags & IFF_VNET_HDR) {
    int hdr_size = sizeof(VirtioNetHdr);
    if (::ioctl(device.fds_[0], TUNSETVNETHDRSZ, &hdr_size) < 0) {
      return system_error("TUNSETVNETHDRSZ", errno);
    }
    device.caps_.vnet_hdr = true;
    negotiate_offload(device.fds_[0], device.caps_);
  }

  Status link = configure_link(options.name, options);
  if (!link.ok()) return Error{link.error()};
  return device;
}

TunDevice::TunDevice(TunDevice&& other) noexcept
    : name_(std::move(other.name_)), caps_(std::move(other.caps_)), fds_(std::move(other.fds_)) {
  other.fds_.clear();
}

TunDevice& TunDevice::operator=(TunDevice&& other) noexcept {
  if (this != &other) {
    close_all();
    name_ = std::move(other.name_);
    caps_ = std::move(other.caps_);
    fds_ = std::move(other.fds_);
    other.fds_.clear();
  }
  return *this;
}

TunDevice::~TunDevice() { close_all(); }

void TunDevice::close_all() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

long TunQueue::read(VirtioNetHdr& hdr, std::span<uint8_t> buffer) const {
  hdr = VirtioNetHdr{};
  iovec iov[2];
  int iov_count = 0;
  if (vnet_hdr_) iov[iov_count++] = {&hdr, sizeof(hdr)};
  iov[iov_count++] = {buffer.data(), buffer.size()};
  for (;;) {
    ssize_t n = ::readv(fd_, iov, iov_count);
    if (n >= 0) {
      const long header = vnet_hdr_ ? static_cast<long>(sizeof(hdr)) : 0;
      return n < header ? 0 : n - header;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 0;
    return -errno;
  }
}

int TunQueue::write(const VirtioNetHdr& hdr, std::span<const uint8_t> packet) const {
  iovec iov[2];
  int iov_count = 0;
  if (vnet_hdr_) iov[iov_count++] = {const_cast<VirtioNetHdr*>(&hdr), sizeof(hdr)};
  iov[iov_count++] = {const_cast<uint8_t*>(packet.data()), packet.size()};
  for (;;) {
    if (::writev(fd_, iov, iov_count) >= 0) return 0;
    if (errno == EINTR) continue;
    return -errno;
  }
}

}  // namespace ergw::xfrm::io
