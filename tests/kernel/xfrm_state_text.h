// The kernel tests read the kernel's own XFRM states through iproute2: they
// print `ip xfrm state` without its keys, and take each state's counters from
// `ip -s xfrm state` (what Linux's ESP carried, and its integrity failures).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ergw::kernel_tests {

// `ip [-s] xfrm state` output with every key replaced by `<key>`:
// "aead rfc4106(gcm(aes)) 0x<hex> 128" -> "aead rfc4106(gcm(aes)) <key>".
// Each line indented by two spaces, for test logs.
std::string xfrm_state_without_keys(const std::string& text);

// One state of `ip -s xfrm state`.
struct XfrmStateCounters {
  std::string src;         // outer addresses
  std::string dst;
  std::string spi;         // "0xc1a2b3c4"
  uint64_t bytes = 0;      // lifetime current
  uint64_t packets = 0;
  uint64_t failed = 0;     // stats: integrity (ICV) failures
};

// Every state in `ip -s xfrm state` text; a state whose counters are missing
// from the text keeps zeros (the caller's "did it move" check then fails).
std::vector<XfrmStateCounters> parse_xfrm_state_counters(const std::string& text);

// The sums over the states from `src` to `dst`.
XfrmStateCounters sum_xfrm_states(const std::vector<XfrmStateCounters>& states, const std::string& src,
                                  const std::string& dst);

}  // namespace ergw::kernel_tests
