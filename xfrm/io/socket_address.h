// An IPv4/IPv6 socket address built from ergw::IpAddress, for sendmmsg and bind.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/ip_prefix.h"

namespace ergw::xfrm::io {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  static SocketAddress from(const IpAddress& address, uint16_t port);
  int family() const { return storage.ss_family; }
  bool operator==(const SocketAddress& other) const;
  std::string to_string() const;
};

}  // namespace ergw::xfrm::io
