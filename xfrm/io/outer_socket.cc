#include "xfrm/io/outer_socket.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/system_error.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace ergw::xfrm::io {
namespace {

void set_buffers(int fd, int bytes, OuterCapabilities& caps) {
  // FORCE variants pass rmem_max/wmem_max with CAP_NET_ADMIN; else best effort.
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0) {
    caps.note += "SO_SNDBUF refused; ";
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0) {
    caps.note += "SO_RCVBUF refused; ";
  }
}

}  // namespace

std::string OuterCapabilities::describe() const {
  std::string text = std::string("gso=") + (gso ? "yes" : "no") + " gro=" + (gro ? "yes" : "no");
  if (!note.empty()) text += " (" + note.substr(0, note.size() - 2) + ")";
  return text;
}

Result<OuterSocket> OuterSocket::open(const OuterSocketOptions& options) {
  OuterSocket sock;
  sock.kind_ = options.kind;
  sock.ipv6_ = !options.local.is_v4();
  const int family = sock.ipv6_ ? AF_INET6 : AF_INET;
  const bool udp = options.kind == OuterKind::udp;
  const uint16_t port = udp ? options.port : 0;
  sock.label_ = std::string(udp ? "udp " : "esp ") + SocketAddress::from(options.local, port).to_string();

  sock.fd_ = udp ? ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP)
                 : ::socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP);
  if (sock.fd_ < 0) return system_error("socket for " + sock.label_, errno);

  const int one = 1;
  if (options.reuse_port && udp &&
      ::setsockopt(sock.fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
    return system_error("SO_REUSEPORT on " + sock.label_, errno);
  }
  if (options.reuse_addr && ::setsockopt(sock.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
    return system_error("SO_REUSEADDR on " + sock.label_, errno);
  }
  if (sock.ipv6_) (void)::setsockopt(sock.fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  set_buffers(sock.fd_, options.buffer_bytes, sock.caps_);

  SocketAddress local = SocketAddress::from(options.local, port);
  if (::bind(sock.fd_, reinterpret_cast<const sockaddr*>(&local.storage), local.length) < 0) {
    return system_error("bind " + sock.label_, errno);
  }

  if (udp) {
    // RFC 3948 §2.1: the UDP checksum SHOULD be sent as zero over IPv4; Linux
    // sends a valid one regardless (allowed: receivers "MUST NOT depend upon"
    // zero), and IPv6 requires one (RFC 8200 §8.1).
    int size = 0;
    socklen_t len = sizeof(size);
    if (options.gso) {
      if (::getsockopt(sock.fd_, SOL_UDP, UDP_SEGMENT, &size, &len) == 0) {
        sock.caps_.gso = true;
      } else {
        sock.caps_.note += "UDP_SEGMENT unsupported; ";
      }
    } else {
      sock.caps_.note += "gso disabled by option; ";
    }
    if (options.gro) {
      // getsockopt(UDP_GRO) only exists from Linux 5.12; before that GRO was
      // unreliable, so a failing getsockopt means "do not use" (wireguard-go c92064f).
      len = sizeof(size);
      if (::getsockopt(sock.fd_, SOL_UDP, UDP_GRO, &size, &len) == 0 &&
          ::setsockopt(sock.fd_, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0) {
        sock.caps_.gro = true;
      } else {
        sock.caps_.note += "UDP_GRO unsupported (needs Linux 5.12); ";
      }
    } else {
      sock.caps_.note += "gro disabled by option; ";
    }
  } else {
    sock.caps_.note += "raw ESP: no GSO/GRO; ";
  }
  return sock;
}

OuterSocket::OuterSocket(OuterSocket&& other) noexcept
    : fd_(other.fd_), kind_(other.kind_), ipv6_(other.ipv6_), caps_(std::move(other.caps_)),
      label_(std::move(other.label_)) {
  other.fd_ = -1;
}

OuterSocket& OuterSocket::operator=(OuterSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    kind_ = other.kind_;
    ipv6_ = other.ipv6_;
    caps_ = std::move(other.caps_);
    label_ = std::move(other.label_);
    other.fd_ = -1;
  }
  return *this;
}

uint16_t OuterSocket::local_port() const {
  sockaddr_storage address{};
  socklen_t len = sizeof(address);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &len) < 0) return 0;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
}

OuterSocket::~OuterSocket() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace ergw::xfrm::io
