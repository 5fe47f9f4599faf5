// Lifetime events the engine raises upward, and the per-SA counters. charon
// does not see fast-path traffic, so volume-based rekeying depends on these.
#pragma once

#include <array>
#include <cstdint>

#include "xfrm/esp/drop_reason.h"
#include "xfrm/esp/sa_config.h"

namespace ergw::xfrm::esp {

using SaId = uint32_t;
inline constexpr SaId kInvalidSaId = UINT32_MAX;

enum class ExpireKind : uint8_t { soft, hard };
enum class ExpireCause : uint8_t {
  bytes,
  packets,
  seconds,
  sequence,  // outbound sequence space nearly (soft) or fully (hard) used
};

// One event per (SA, kind): a soft event fires once, a hard event fires once
// and the SA drops every later packet with DropReason::sa_expired.
struct SaEvent {
  SaId id = kInvalidSaId;
  uint32_t spi = 0;
  Direction direction = Direction::inbound;
  uint64_t owner_tag = 0;
  ExpireKind kind = ExpireKind::soft;
  ExpireCause cause = ExpireCause::bytes;
};

struct SaCounters {
  uint64_t packets = 0;  // packets carried (inbound: only after the ICV verified)
  uint64_t bytes = 0;    // inner IP bytes carried
  std::array<uint64_t, kDropReasonCount> drops{};

  uint64_t drop_count(DropReason reason) const { return drops[static_cast<size_t>(reason)]; }
};

}  // namespace ergw::xfrm::esp
