// Typed requests of the ergw-ipsec control protocol, decoded from a
// MessageReader with every field checked (errors name the attribute and the
// allowed values, never a key). What charon's kernel_ipsec_t hands its backend
// arrives here one to one (docs/ipsec-protocol.md).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "xfrm/control/message.h"
#include "xfrm/esp/sa_config.h"

namespace ergw::xfrm::control {

inline constexpr uint8_t kProtoEsp = 50;

struct Mark {
  uint32_t value = 0;
  uint32_t mask = 0;
  bool operator==(const Mark&) const = default;
};

// How charon names an SA: (SPI, protocol, outer src/dst, mark, if_id).
struct SaKey {
  uint32_t spi = 0;
  IpAddress src;
  IpAddress dst;
  Mark mark;
  uint32_t if_id = 0;
};

struct GetSpiRequest {
  IpAddress src;
  IpAddress dst;
};

struct AddSaRequest {
  SaKey key;
  uint32_t reqid = 0;
  bool update = false;     // the SPI was reserved by GET_SPI
  bool replay = false;     // re-sent by the plugin after the fast path restarted
  bool initiator = false;
  uint16_t src_port = 0;   // with encapsulation, as the packet travels
  uint16_t dst_port = 0;
  std::vector<TrafficSelector> src_ts;
  std::vector<TrafficSelector> dst_ts;
  // What the client last reported to charon for this SA from QUERY_SA (sent
  // with a replay): the SA's counters go on from at least these.
  uint64_t reported_bytes = 0;
  uint64_t reported_packets = 0;
  esp::SaConfig config;    // direction, endpoints, algorithm, keys, ESN, window, lifetimes: holds keys
};

struct UpdateSaRequest {
  SaKey key;
  IpAddress new_src;
  IpAddress new_dst;
  bool new_encap = false;
  uint16_t new_src_port = 0;
  uint16_t new_dst_port = 0;
};

enum class PolicyDirection : uint8_t { in = 0, out = 1, fwd = 2 };
enum class PolicyType : uint8_t { ipsec = 1, pass = 2, drop = 3 };

struct PolicyRequest {
  PolicyDirection direction = PolicyDirection::out;
  TrafficSelector src_ts;
  TrafficSelector dst_ts;
  Mark mark;
  uint32_t if_id = 0;
  PolicyType type = PolicyType::ipsec;
  uint32_t priority = 0;
  uint32_t reqid = 0;          // the SAs this policy uses (ipsec only)
  uint32_t spi = 0;            // informational: the SA charon installed it for
  std::optional<IpAddress> src;  // outer addresses of the SA (ipsec only)
  std::optional<IpAddress> dst;
};

struct RouteRequest {
  IpPrefix prefix{IpAddress(), 0};
  uint32_t if_id = 0;
};

struct IkeSocketRequest {
  uint8_t family = 4;  // 4 or 6
  uint16_t port = 4500;
};

Result<GetSpiRequest> decode_get_spi(const MessageReader& message);
Result<AddSaRequest> decode_add_sa(const MessageReader& message);
Result<UpdateSaRequest> decode_update_sa(const MessageReader& message);
// QUERY_SA and DEL_SA carry only the SA key.
Result<SaKey> decode_sa_key(const MessageReader& message);
Result<PolicyRequest> decode_policy(const MessageReader& message, bool adding);
Result<RouteRequest> decode_route(const MessageReader& message);
Result<IkeSocketRequest> decode_ike_socket(const MessageReader& message);

}  // namespace ergw::xfrm::control
