#include "gateway/diagnose/underlay_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ergw::diagnose {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kIpHeader = 20;
constexpr int kIcmpHeader = 8;
constexpr int kSmallEcho = 84;  // ping's default: 56 bytes of data

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

uint16_t checksum(const uint8_t* data, size_t length) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < length; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (length % 2) sum += static_cast<uint32_t>(data[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

sockaddr_in socket_address(const IpAddress& peer, int port) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  std::memcpy(&to.sin_addr, peer.bytes().data(), 4);
  return to;
}

// Identifies this process's echoes among every ICMP a raw socket sees.
uint16_t next_sequence() {
  static std::atomic<uint16_t> sequence{1};
  return sequence.fetch_add(1);
}

// Whether something arrived on `fd` before `deadline`.
bool readable_before(const Fd& fd, SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  pollfd p{fd.get(), POLLIN, 0};
  return ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0) > 0;
}

}  // namespace

EchoResult echo_with_df(const IpAddress& peer, int ip_size, std::chrono::milliseconds timeout) {
  EchoResult result;
  if (!peer.is_v4()) {
    result.error = "only IPv4 tunnel addresses are probed";
    return result;
  }
  ip_size = std::max(ip_size, kIpHeader + kIcmpHeader);
  Fd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
  if (fd.get() < 0) {
    result.error = std::string("raw ICMP socket: ") + std::strerror(errno);
    return result;
  }
  const int probe = IP_PMTUDISC_PROBE;
  ::setsockopt(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
  const uint16_t id = static_cast<uint16_t>(::getpid());
  const uint16_t sequence = next_sequence();
  std::vector<uint8_t> packet(static_cast<size_t>(ip_size - kIpHeader), 0x5a);
  packet[0] = ICMP_ECHO;
  packet[1] = 0;
  packet[2] = packet[3] = 0;
  packet[4] = static_cast<uint8_t>(id >> 8);
  packet[5] = static_cast<uint8_t>(id);
  packet[6] = static_cast<uint8_t>(sequence >> 8);
  packet[7] = static_cast<uint8_t>(sequence);
  const uint16_t sum = checksum(packet.data(), packet.size());
  packet[2] = static_cast<uint8_t>(sum >> 8);
  packet[3] = static_cast<uint8_t>(sum);
  const auto to = socket_address(peer, 0);
  if (::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) < 0) {
    result.error = std::string("sending ") + std::to_string(ip_size) + " bytes with DF: " + std::strerror(errno);
    return result;
  }
  const auto deadline = SteadyClock::now() + timeout;
  uint8_t buffer[2048];
  while (readable_before(fd, deadline)) {
    sockaddr_in from{};
    socklen_t from_length = sizeof(from);
    const ssize_t n =
        ::recvfrom(fd.get(), buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n < kIpHeader + kIcmpHeader) continue;
    const size_t header = static_cast<size_t>(buffer[0] & 0x0f) * 4;
    if (static_cast<size_t>(n) < header + kIcmpHeader) continue;
    const uint8_t* icmp = buffer + header;
    const auto matches = [&](const uint8_t* echo) {
      return (echo[4] << 8 | echo[5]) == id && (echo[6] << 8 | echo[7]) == sequence;
    };
    if (icmp[0] == ICMP_ECHOREPLY && std::memcmp(&from.sin_addr, peer.bytes().data(), 4) == 0 && matches(icmp)) {
      result.replied = true;
      return result;
    }
    // Fragmentation needed: the original IP header and the first 8 bytes
    // of our echo follow the ICMP header.
    if (icmp[0] == ICMP_DEST_UNREACH && icmp[1] == ICMP_FRAG_NEEDED) {
      const uint8_t* inner = icmp + kIcmpHeader;
      const size_t left = static_cast<size_t>(n) - header - kIcmpHeader;
      if (left < kIpHeader) continue;
      const size_t inner_header = static_cast<size_t>(inner[0] & 0x0f) * 4;
      if (left < inner_header + kIcmpHeader || !matches(inner + inner_header)) continue;
      result.frag_needed_mtu = icmp[6] << 8 | icmp[7];
      return result;
    }
  }
  return result;
}

UnderlayEvidence probe_underlay(const IpAddress& peer, int target, std::chrono::milliseconds timeout) {
  UnderlayEvidence e;
  e.peer = peer.to_string();
  e.target = target;
  for (int i = 0; i < 3 && !e.reachable; ++i) {
    ++e.small_sent;
    const auto echo = echo_with_df(peer, kSmallEcho, timeout);
    if (!echo.error.empty()) {
      e.error = echo.error;
      return e;
    }
    e.reachable = echo.replied;
  }
  if (!e.reachable) return e;
  e.largest_answered = kSmallEcho;
  // Two tries at the full size: one lost echo is not a path MTU.
  for (int i = 0; i < 2; ++i) {
    const auto echo = echo_with_df(peer, target, timeout);
    if (echo.replied) {
      e.largest_answered = target;
      return e;
    }
    if (echo.frag_needed_mtu) e.frag_needed_mtu = echo.frag_needed_mtu;
    if (!echo.error.empty()) break;  // EMSGSIZE: larger than this host's own device
  }
  int low = kSmallEcho;
  int high = target;  // lost
  if (e.frag_needed_mtu && *e.frag_needed_mtu > low && *e.frag_needed_mtu < high) {
    if (echo_with_df(peer, *e.frag_needed_mtu, timeout).replied) {
      low = *e.frag_needed_mtu;
    } else {
      high = *e.frag_needed_mtu;
    }
  }
  while (high - low > 8) {
    const int middle = (low + high) / 2;
    const auto echo = echo_with_df(peer, middle, timeout);
    if (echo.replied) {
      low = middle;
    } else {
      high = middle;
      if (echo.frag_needed_mtu) e.frag_needed_mtu = echo.frag_needed_mtu;
    }
  }
  e.largest_answered = low;
  e.smallest_lost = high;
  return e;
}

PortProbe probe_udp_port(const IpAddress& peer, int port, std::chrono::milliseconds timeout) {
  PortProbe result;
  result.port = port;
  if (!peer.is_v4()) {
    result.error = "only IPv4 tunnel addresses are probed";
    return result;
  }
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    result.error = std::string("UDP socket: ") + std::strerror(errno);
    return result;
  }
  const auto to = socket_address(peer, port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    result.error = std::string("connect: ") + std::strerror(errno);
    return result;
  }
  const uint8_t keepalive = 0xff;
  if (::send(fd.get(), &keepalive, 1, 0) < 0) {
    result.error = std::string("send: ") + std::strerror(errno);
    return result;
  }
  const auto deadline = SteadyClock::now() + timeout;
  uint8_t buffer[64];
  while (readable_before(fd, deadline)) {
    if (::recv(fd.get(), buffer, sizeof(buffer), 0) < 0 && errno == ECONNREFUSED) {
      result.refused = true;
      return result;
    }
  }
  return result;
}

}  // namespace ergw::diagnose
