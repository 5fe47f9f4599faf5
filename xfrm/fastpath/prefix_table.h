// Longest-prefix match over IPv4 and IPv6 prefixes, straight from header
// bytes: one hash table per prefix length in use, probed from the longest
// length down. A lookup costs one probe per distinct length present (at most
// 33 or 129), never one per prefix, so it stays flat as the table grows to
// thousands of prefixes (bench/fastpath/prefix_table_bench.cc measures it).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "common/ip_prefix.h"

namespace ergw::xfrm::fastpath {

template <typename Value>
class PrefixTable {
 public:
  // Inserts or returns the existing value for `prefix`.
  Value& operator[](const IpPrefix& prefix) {
    Map& map = family(!prefix.is_v4()).map_for(prefix.length());
    return map[key_of(prefix.network().bytes().data(), prefix.length())];
  }
  Value* find(const IpPrefix& prefix) {
    Map* map = family(!prefix.is_v4()).existing(prefix.length());
    if (map == nullptr) return nullptr;
    auto it = map->find(key_of(prefix.network().bytes().data(), prefix.length()));
    return it == map->end() ? nullptr : &it->second;
  }
  bool erase(const IpPrefix& prefix) {
    Family& f = family(!prefix.is_v4());
    Map* map = f.existing(prefix.length());
    if (map == nullptr || map->erase(key_of(prefix.network().bytes().data(), prefix.length())) == 0) return false;
    if (map->empty()) f.drop(prefix.length());
    return true;
  }
  void clear() {
    v4_ = Family();
    v6_ = Family();
  }
  size_t size() const {
    size_t n = 0;
    for (const Family* f : {&v4_, &v6_}) {
      for (const auto& level : f->levels) n += level.map.size();
    }
    return n;
  }

  // Calls fn(const Value&, int length) for every prefix containing `address`
  // (4 or 16 octets by `v6`), longest first, until fn returns true. Returns
  // whether it did.
  template <typename Fn>
  bool for_each_match(bool v6, const uint8_t* address, Fn&& fn) const {
    for (const Level& level : (v6 ? v6_ : v4_).levels) {
      const auto it = level.map.find(key_of(address, level.length));
      if (it != level.map.end() && fn(it->second, level.length)) return true;
    }
    return false;
  }
  const Value* longest_match(bool v6, const uint8_t* address) const {
    const Value* found = nullptr;
    for_each_match(v6, address, [&](const Value& v, int) {
      found = &v;
      return true;
    });
    return found;
  }

 private:
  struct Key {
    uint64_t high = 0;
    uint64_t low = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = k.high * 0x9e3779b97f4a7c15ULL ^ (k.low + 0x632be59bd9b4e019ULL + (k.high << 6));
      h ^= h >> 29;
      return static_cast<size_t>(h * 0xbf58476d1ce4e5b9ULL);
    }
  };
  using Map = std::unordered_map<Key, Value, KeyHash>;
  // Only the lengths in use, longest first: an empty table costs two empty
  // vectors, and thousands of small tables (one per interface id) stay small.
  struct Level {
    int length;
    Map map;
  };
  struct Family {
    std::vector<Level> levels;
    Map* existing(int length) {
      for (Level& level : levels) {
        if (level.length == length) return &level.map;
      }
      return nullptr;
    }
    Map& map_for(int length) {
      if (Map* map = existing(length)) return *map;
      auto at = levels.begin();
      while (at != levels.end() && at->length > length) ++at;
      return levels.insert(at, Level{length, Map()})->map;
    }
    void drop(int length) {
      for (auto it = levels.begin(); it != levels.end(); ++it) {
        if (it->length == length) {
          levels.erase(it);
          return;
        }
      }
    }
  };

  // The first `length` bits of the address as a 128-bit key (IPv4 uses the
  // high word only; the family is kept apart by the two tables).
  static Key key_of(const uint8_t* address, int length) {
    std::array<uint8_t, 16> bytes{};
    const int full = length / 8;
    std::memcpy(bytes.data(), address, static_cast<size_t>(full));
    if (length % 8 != 0) bytes[static_cast<size_t>(full)] = address[full] & static_cast<uint8_t>(0xff00 >> (length % 8));
    Key k;
    for (int i = 0; i < 8; ++i) k.high = (k.high << 8) | bytes[static_cast<size_t>(i)];
    for (int i = 8; i < 16; ++i) k.low = (k.low << 8) | bytes[static_cast<size_t>(i)];
    return k;
  }

  Family& family(bool v6) { return v6 ? v6_ : v4_; }
  Family v4_;
  Family v6_;
};

}  // namespace ergw::xfrm::fastpath
