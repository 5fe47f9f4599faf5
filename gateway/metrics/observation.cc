#include "gateway/metrics/observation.h"

namespace ergw::metrics {

const char* drop_reason_label(DropReason reason) {
  switch (reason) {
    case DropReason::ts_mismatch: return "ts_mismatch";
    case DropReason::replay: return "replay";
    case DropReason::integrity: return "integrity";
    case DropReason::no_sa: return "no_sa";
  }
  return "no_sa";
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
