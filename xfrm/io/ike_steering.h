// Sharing UDP 4500 with charon (RFC 3948: ESP-in-UDP and IKE arrive on the
// same port). charon's NAT-T socket and ours form one SO_REUSEPORT group; a
// classic BPF program attached to the group (SO_ATTACH_REUSEPORT_CBPF, Linux
// 4.5) picks the socket per datagram from its first four payload octets:
//   zero (the non-ESP marker of IKE, RFC 3948 2.2), or fewer than four octets
//   (NAT-keepalive, empty datagram)                -> group index 0 (charon)
//   anything else (an SPI, RFC 3948 2.1)           -> group index 1 (the fast path)
// The group's order is the order of binding; the fast path binds after charon
// has set SO_REUSEPORT on its socket (the plugin reports it), so charon is 0.
// An index beyond the group (charon gone) falls back to the kernel's hash,
// i.e. to whichever socket is left. docs/fastpath.md "Sharing port 4500".
#pragma once

#include "common/result.h"

namespace ergw::xfrm::io {

// Attaches the program to the reuseport group of `fd` (a bound UDP socket).
Status attach_ike_steering(int fd);

}  // namespace ergw::xfrm::io
