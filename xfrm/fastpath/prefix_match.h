// Matching inner-packet addresses, straight from header bytes, against the
// selectors of the SA file (no IpAddress construction per packet).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/ip_prefix.h"

namespace ergw::xfrm::fastpath {

struct PrefixMatch {
  bool v6 = false;
  int length = 0;
  std::array<uint8_t, 16> network{};

  static PrefixMatch from(const IpPrefix& prefix) {
    return PrefixMatch{!prefix.is_v4(), prefix.length(), prefix.network().bytes()};
  }

  bool contains(bool address_v6, const uint8_t* address) const {
    if (address_v6 != v6) return false;
    const int full = length / 8;
    if (std::memcmp(address, network.data(), static_cast<size_t>(full)) != 0) return false;
    const int rest = length % 8;
    if (rest == 0) return true;
    const uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
    return (address[full] & mask) == network[static_cast<size_t>(full)];
  }
};

// Empty = any address of either family.
struct PrefixSet {
  std::vector<PrefixMatch> prefixes;

  static PrefixSet from(const std::vector<IpPrefix>& list) {
    PrefixSet set;
    for (const IpPrefix& p : list) set.prefixes.push_back(PrefixMatch::from(p));
    return set;
  }
  // Length of the longest matching prefix, -1 when none matches (0 for "any").
  int longest_match(bool v6, const uint8_t* address) const {
    if (prefixes.empty()) return 0;
    int best = -1;
    for (const PrefixMatch& p : prefixes) {
      if (p.length > best && p.contains(v6, address)) best = p.length;
    }
    return best;
  }
  bool matches(bool v6, const uint8_t* address) const { return longest_match(v6, address) >= 0; }
};

}  // namespace ergw::xfrm::fastpath
