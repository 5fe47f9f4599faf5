// The fast path's side of the ergw-ipsec control protocol: one request in,
// one reply out, applied to the IpsecState. Pure (no I/O), so the whole
// request path is fuzzed (tests/xfrm/fastpath/control_fuzz.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "xfrm/fastpath/ipsec_state.h"

namespace ergw::xfrm::fastpath {

struct ControlSession {
  bool subscribed = false;  // receives EXPIRE and MAPPING events
  std::string peer_name;    // from HELLO, for logs
};

class ControlHandler {
 public:
  // Called for IKE_SOCKET: charon's NAT-T socket is bound (share the port).
  using IkeSocketHook = std::function<Result<std::string>(uint8_t family, uint16_t port)>;
  // Log lines (never with keys).
  using LogHook = std::function<void(const std::string&)>;

  // Called for RELEASE_IKE_PORTS: leave the NAT-T ports' reuseport groups.
  using ReleaseHook = std::function<std::string()>;

  ControlHandler(IpsecState& state, IkeSocketHook ike_socket, ReleaseHook release, LogHook log);

  // The reply to one request (always a complete message), or an empty vector
  // when the message is not a request (nothing to answer).
  std::vector<uint8_t> handle(std::span<const uint8_t> request, ControlSession& session);

  static std::vector<uint8_t> expire_event(const ExpireEvent& event);
  static std::vector<uint8_t> mapping_event(const MappingEvent& event);

 private:
  IpsecState& state_;
  IkeSocketHook ike_socket_;
  ReleaseHook release_;
  LogHook log_;
  uint64_t instance_ = 0;
};

}  // namespace ergw::xfrm::fastpath
