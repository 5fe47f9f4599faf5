#include "gateway/ergwd/tcp_md5_evidence.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace ergw::gateway {
namespace {

std::vector<std::string_view> words(const std::string& line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && line[at] == ' ') ++at;
    const size_t start = at;
    while (at < line.size() && line[at] != ' ') ++at;
    if (at > start) out.push_back(std::string_view(line).substr(start, at - start));
  }
  return out;
}

}  // namespace

std::optional<TcpMd5Drops> parse_tcp_md5_drops(std::string_view netstat) {
  // Each section is two lines with the same prefix: names, then values.
  std::vector<std::string> lines;
  std::istringstream in{std::string(netstat)};
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (!lines[i].starts_with("TcpExt:") || !lines[i + 1].starts_with("TcpExt:")) continue;
    const auto names = words(lines[i]);
    const auto values = words(lines[i + 1]);
    if (names.size() != values.size()) return std::nullopt;
    TcpMd5Drops drops;
    bool found = false;
    for (size_t k = 1; k < names.size(); ++k) {
      uint64_t* field = names[k] == "TCPMD5Failure"      ? &drops.wrong_signature
                        : names[k] == "TCPMD5NotFound"   ? &drops.missing_signature
                        : names[k] == "TCPMD5Unexpected" ? &drops.unexpected_signature
                                                         : nullptr;
      if (field == nullptr) continue;
      const auto v = values[k];
      if (std::from_chars(v.data(), v.data() + v.size(), *field).ec != std::errc{}) return std::nullopt;
      found = true;
    }
    return found ? std::optional<TcpMd5Drops>(drops) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<TcpMd5Drops> read_tcp_md5_drops(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_tcp_md5_drops(text.str());
}

host::Capability probe_tcp_md5() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {false, std::string("socket: ") + std::strerror(errno)};
  tcp_md5sig sig{};
  auto* peer = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
  peer->sin_family = AF_INET;
  peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char key[] = "ergw-probe";
  sig.tcpm_keylen = sizeof key - 1;
  std::memcpy(sig.tcpm_key, key, sizeof key - 1);
  const int r = ::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig);
  const int error = errno;
  ::close(fd);
  if (r == 0) return {true, "setsockopt(TCP_MD5SIG) accepted a key"};
  return {false, std::string("setsockopt(TCP_MD5SIG): ") + std::strerror(error) +
                     (error == ENOPROTOOPT ? " (a kernel without CONFIG_TCP_MD5SIG)" : "")};
}

std::string explain_tcp_md5(bool password_set, const std::optional<TcpMd5Drops>& drops) {
  if (!password_set) {
    if (drops && drops->unexpected_signature > 0) {
      return "the peer signs its TCP segments with an MD5 password (RFC 2385) and this side has none: the kernel "
             "dropped " + std::to_string(drops->unexpected_signature) +
             " of them (TcpExt TCPMD5Unexpected); set the connection's bgpPassword to the peer's";
    }
    return "";
  }
  if (drops && drops->wrong_signature > 0) {
    return "TCP MD5: the kernel dropped " + std::to_string(drops->wrong_signature) +
           " segment(s) signed with another password (TcpExt TCPMD5Failure): the peer's BGP password differs from "
           "the connection's bgpPassword";
  }
  if (drops && drops->missing_signature > 0) {
    return "TCP MD5: the kernel dropped " + std::to_string(drops->missing_signature) +
           " unsigned segment(s) (TcpExt TCPMD5NotFound): the peer has no BGP password (Azure's VPN gateway never "
           "has one); remove bgpPassword or set it on the peer";
  }
  return "a TCP MD5 password (bgpPassword) is set: a peer with another password or none drops this side's segments "
         "without an answer, so the session only times out; compare the passwords (Azure's VPN gateway supports "
         "none)";
}

}  // namespace ergw::gateway
