// How the fast path writes an SPI (or a reqid) in logs and reports: "0x0000c0de",
// the form `ip xfrm state` and charon's log use, so the three can be grepped together.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace ergw::xfrm::fastpath {

inline std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

}  // namespace ergw::xfrm::fastpath
