#include "gateway/metrics/observation.h"

namespace ergw::metrics {

const char* drop_reason_label(DropReason reason) {
  switch (reason) {
    case DropReason::ts_mismatch: return "ts_mismatch";
    case DropReason::replay: return "replay";
    case DropReason::integrity: return "integrity";
    case DropReason::no_sa: return "no_sa";
    case DropReason::other: return "other";
  }
  return "other";
}

DropReason drop_reason_of(std::string_view reason) {
  // The fast path's names: xfrm/fastpath/ipsec_state.h (per connection) and
  // xfrm/esp/drop_reason.h (the ESP engine's, per SA).
  if (reason == "inner_selector" || reason == "no_inbound_policy") return DropReason::ts_mismatch;
  if (reason == "replayed" || reason == "left_of_window") return DropReason::replay;
  if (reason == "icv_mismatch") return DropReason::integrity;
  if (reason == "no_outbound_sa" || reason == "unknown_spi" || reason == "sa_expired") return DropReason::no_sa;
  return DropReason::other;
}

std::string reason_label(const std::string& reason) {
  std::string out;
  for (char c : reason) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "unknown" : out;
}

}  // namespace ergw::metrics
