// Groups the packets of one worker batch by SA, so that each SA's sequence
// numbers, packets and bytes are charged once per batch instead of once per
// packet (docs/fastpath.md "Charging per batch").
//
// A worker add()s each packet as it prepares it (outbound: laid out in the
// arena, not yet sealed; inbound: verified and decrypted, not yet delivered),
// then settle()s: one call per SA with the lengths of that SA's packets in
// the order they were added. Afterwards grant(p) says whether packet p was
// granted and, outbound, its sequence number. No allocation after
// construction; a batch holds at most `capacity` packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "xfrm/esp/engine.h"

namespace ergw::xfrm::fastpath {

class SaBatch {
 public:
  struct Grant {
    bool granted = false;
    uint64_t sequence = 0;  // outbound only
  };

  explicit SaBatch(size_t capacity) : capacity_(capacity) {
    packets_.reserve(capacity);
    groups_.reserve(capacity);
    lengths_.reserve(capacity);
  }

  bool empty() const { return packets_.empty(); }
  bool full() const { return packets_.size() >= capacity_; }
  size_t size() const { return packets_.size(); }

  // Adds a packet of `sa` (inner length `length`); returns its index in the
  // batch, under which the caller keeps what it needs to finish the packet.
  // Must not be called when full().
  size_t add(esp::Sa& sa, size_t length) {
    size_t group = groups_.size();
    // Linear: a batch holds a handful of SAs (usually one).
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g].sa == &sa) {
        group = g;
        break;
      }
    }
    if (group == groups_.size()) groups_.push_back(Group{&sa, 0, 0, 0});
    packets_.push_back(Packet{group, groups_[group].count++, length});
    return packets_.size() - 1;
  }

  // Calls charge(esp::Sa&, std::span<const size_t> lengths) once per SA, with
  // its packets' lengths in the order they were added; charge returns an
  // esp::BurstGrant (outbound: reserve_burst; the packets not granted are
  // counted here) or the number granted (inbound: charge_received).
  template <typename Charge>
  void settle(Charge&& charge) {
    for (size_t g = 0; g < groups_.size(); ++g) {
      Group& group = groups_[g];
      lengths_.clear();
      for (const Packet& p : packets_) {
        if (p.group == g) lengths_.push_back(p.length);
      }
      const auto result = charge(*group.sa, std::span<const size_t>(lengths_));
      if constexpr (std::is_same_v<std::decay_t<decltype(result)>, esp::BurstGrant>) {
        group.granted = result.granted;
        group.first_sequence = result.first_sequence;
        if (result.granted < group.count) esp::count_burst_drops(*group.sa, result.drop, group.count - result.granted);
      } else {
        group.granted = result;
      }
    }
  }

  // After settle(): was packet `index` granted, and with which sequence number.
  Grant grant(size_t index) const {
    const Packet& p = packets_[index];
    const Group& g = groups_[p.group];
    if (p.ordinal >= g.granted) return {};
    return {true, g.first_sequence + p.ordinal};
  }

  void clear() {
    packets_.clear();
    groups_.clear();
  }

 private:
  struct Packet {
    size_t group;
    size_t ordinal;  // position among its SA's packets in this batch
    size_t length;
  };
  struct Group {
    esp::Sa* sa;
    size_t count;
    size_t granted;
    uint64_t first_sequence;
  };

  size_t capacity_;
  std::vector<Packet> packets_;
  std::vector<Group> groups_;
  std::vector<size_t> lengths_;  // one SA's lengths while settling
};

}  // namespace ergw::xfrm::fastpath
