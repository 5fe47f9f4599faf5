#include "tests/kernel/xfrm_state_text.h"

#include <sstream>

namespace ergw::kernel_tests {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  return first == std::string::npos ? "" : line.substr(first);
}

// The number right before `unit` in "336(bytes), 4(packets)"; 0 when absent.
uint64_t number_before(const std::string& line, const std::string& unit) {
  const auto at = line.find(unit);
  if (at == std::string::npos) return 0;
  auto start = at;
  while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9') --start;
  return start == at ? 0 : std::stoull(line.substr(start, at - start));
}

// The word after `key` in "replay-window 0 replay 0 failed 0"; 0 when absent.
uint64_t number_after(const std::string& line, const std::string& key) {
  std::istringstream words(line);
  for (std::string word; words >> word;) {
    if (word != key) continue;
    std::string value;
    if (words >> value && !value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
      return std::stoull(value);
    }
    return 0;
  }
  return 0;
}

}  // namespace

std::string xfrm_state_without_keys(const std::string& text) {
  std::string out;
  for (const auto& line : lines_of(text)) {
    const auto body = trimmed(line);
    const auto word = body.substr(0, body.find(' '));
    const bool carries_key = word == "enc" || word == "auth" || word == "auth-trunc" || word == "aead";
    const auto key = line.find("0x");
    out += "  " + (carries_key && key != std::string::npos ? line.substr(0, key) + "<key>" : line) + "\n";
  }
  return out;
}

std::vector<XfrmStateCounters> parse_xfrm_state_counters(const std::string& text) {
  std::vector<XfrmStateCounters> states;
  enum class Next { nothing, lifetime, stats } next = Next::nothing;
  for (const auto& line : lines_of(text)) {
    const auto body = trimmed(line);
    if (line.rfind("src ", 0) == 0) {  // "src A dst B" starts a state
      XfrmStateCounters state;
      std::istringstream words(line);
      std::string word;
      while (words >> word) {
        if (word == "src") words >> state.src;
        if (word == "dst") words >> state.dst;
      }
      states.push_back(state);
      next = Next::nothing;
      continue;
    }
    if (states.empty()) continue;
    auto& state = states.back();
    if (body.rfind("proto ", 0) == 0) {  // "proto esp spi 0xc1a2b3c4(3248672708) reqid ..."
      const auto at = body.find(" spi ");
      if (at != std::string::npos) {
        const auto value = body.substr(at + 5);
        state.spi = value.substr(0, value.find_first_of("( "));
      }
    } else if (body == "lifetime current:") {
      next = Next::lifetime;
    } else if (body == "stats:") {
      next = Next::stats;
    } else if (next == Next::lifetime && body.find("(bytes)") != std::string::npos) {
      state.bytes = number_before(body, "(bytes)");
      state.packets = number_before(body, "(packets)");
      next = Next::nothing;
    } else if (next == Next::stats && body.find("failed") != std::string::npos) {
      state.failed = number_after(body, "failed");
      next = Next::nothing;
    }
  }
  return states;
}

XfrmStateCounters sum_xfrm_states(const std::vector<XfrmStateCounters>& states, const std::string& src,
                                  const std::string& dst) {
  XfrmStateCounters sum;
  sum.src = src;
  sum.dst = dst;
  for (const auto& s : states) {
    if (s.src != src || s.dst != dst) continue;
    sum.bytes += s.bytes;
    sum.packets += s.packets;
    sum.failed += s.failed;
  }
  return sum;
}

}  // namespace ergw::kernel_tests
