// Why a BGP session with a TCP MD5 password (RFC 2385) stays down. BIRD
// cannot tell: a segment whose signature is wrong or missing is dropped by
// the receiving kernel without an answer, so the sender only sees its
// connection attempts time out. The kernel counts those drops per network
// namespace (TcpExt in /proc/net/netstat, Linux >= 4.x):
//   TCPMD5Failure     a segment signed with another password
//   TCPMD5NotFound    an unsigned segment where a password is set
//   TCPMD5Unexpected  a signed segment where no password is set
// ergwd's namespace holds the appliance's BGP sessions, so these counts are
// the evidence the status gives with a session that does not come up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "host/kernel_probe.h"

namespace ergw::gateway {

struct TcpMd5Drops {
  uint64_t wrong_signature = 0;       // TCPMD5Failure
  uint64_t missing_signature = 0;     // TCPMD5NotFound
  uint64_t unexpected_signature = 0;  // TCPMD5Unexpected
  bool operator==(const TcpMd5Drops&) const = default;
};

// The counters from /proc/net/netstat's text (a "TcpExt:" line of names
// followed by one of values); nullopt when the kernel reports none of them.
std::optional<TcpMd5Drops> parse_tcp_md5_drops(std::string_view netstat);
// The same from the file (this process's network namespace).
std::optional<TcpMd5Drops> read_tcp_md5_drops(const std::string& path = "/proc/net/netstat");

// Whether this kernel signs TCP segments (TCP_MD5SIG, CONFIG_TCP_MD5SIG):
// a key set on a socket of this namespace, for 127.0.0.1, is accepted. BIRD
// needs it for a BGP password.
host::Capability probe_tcp_md5();

// A hint for a session that is not Established, from whether it has a
// password and what the kernel dropped; empty when there is nothing to say.
std::string explain_tcp_md5(bool password_set, const std::optional<TcpMd5Drops>& drops);

}  // namespace ergw::gateway
