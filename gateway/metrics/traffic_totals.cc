#include "gateway/metrics/traffic_totals.h"

#include <algorithm>

namespace ergw::metrics {
namespace {

void add(TrafficCounters& into, const TrafficCounters& c) {
  into.rx_bytes += c.rx_bytes;
  into.rx_packets += c.rx_packets;
  into.tx_bytes += c.tx_bytes;
  into.tx_packets += c.tx_packets;
  for (const auto& [reason, value] : c.drops) into.drops[reason] += value;
}

// True when any counter of `now` is below `before`: not the same SA any more.
bool fell(const TrafficCounters& before, const TrafficCounters& now) {
  if (now.rx_bytes < before.rx_bytes || now.rx_packets < before.rx_packets || now.tx_bytes < before.tx_bytes ||
      now.tx_packets < before.tx_packets) {
    return true;
  }
  for (const auto& [reason, value] : before.drops) {
    auto it = now.drops.find(reason);
    if (it != now.drops.end() && it->second < value) return true;
  }
  return false;
}

void raise_to(TrafficCounters& into, const TrafficCounters& c) {
  into.rx_bytes = std::max(into.rx_bytes, c.rx_bytes);
  into.rx_packets = std::max(into.rx_packets, c.rx_packets);
  into.tx_bytes = std::max(into.tx_bytes, c.tx_bytes);
  into.tx_packets = std::max(into.tx_packets, c.tx_packets);
  for (const auto& [reason, value] : c.drops) into.drops[reason] = std::max(into.drops[reason], value);
}

}  // namespace

void TrafficTotals::retire(const Key& key) {
  auto it = live_.find(key);
  if (it == live_.end()) return;
  add(retired_[key.first], it->second);
  live_.erase(it);
}

void TrafficTotals::update(const Key& key, const TrafficCounters& counters) {
  auto it = live_.find(key);
  if (it != live_.end() && fell(it->second, counters)) {
    retire(key);
    it = live_.end();
  }
  if (it == live_.end()) {
    live_.emplace(key, counters);
    retired_.try_emplace(key.first);  // the connection has a series from now on
  } else {
    raise_to(it->second, counters);
  }
}

void TrafficTotals::sample(const std::vector<SaSample>& sas) {
  std::set<Key> seen;
  for (const auto& sa : sas) {
    Key key{sa.connection, sa.child_id};
    seen.insert(key);
    update(key, sa.counters);
  }
  std::vector<Key> gone;
  for (const auto& [key, counters] : live_) {
    if (!seen.count(key)) gone.push_back(key);
  }
  for (const auto& key : gone) retire(key);
}

void TrafficTotals::final_counters(const SaSample& sa) {
  update({sa.connection, sa.child_id}, sa.counters);
}

void TrafficTotals::retire_all() {
  std::vector<Key> keys;
  for (const auto& [key, counters] : live_) keys.push_back(key);
  for (const auto& key : keys) retire(key);
}

void TrafficTotals::data_plane_drops(const std::string& connection, const std::map<DropReason, uint64_t>& drops) {
  DropCounts& d = drops_[connection];
  const bool fell = std::any_of(d.last.begin(), d.last.end(), [&](const auto& reason_count) {
    auto now = drops.find(reason_count.first);
    return now != drops.end() && now->second < reason_count.second;
  });
  if (fell) {
    for (const auto& [reason, count] : d.last) d.retired[reason] += count;
    d.last.clear();
  }
  for (const auto& [reason, count] : drops) d.last[reason] = std::max(d.last[reason], count);
}

void TrafficTotals::forget(const std::string& connection) {
  for (auto it = live_.begin(); it != live_.end();) {
    it = it->first.first == connection ? live_.erase(it) : std::next(it);
  }
  retired_.erase(connection);
  drops_.erase(connection);
}

TrafficCounters TrafficTotals::totals(const std::string& connection) const {
  TrafficCounters out;
  if (auto it = retired_.find(connection); it != retired_.end()) add(out, it->second);
  for (const auto& [key, counters] : live_) {
    if (key.first == connection) add(out, counters);
  }
  if (auto it = drops_.find(connection); it != drops_.end()) {
    for (const auto& [reason, count] : it->second.retired) out.drops[reason] += count;
    for (const auto& [reason, count] : it->second.last) out.drops[reason] += count;
  }
  return out;
}

std::vector<std::string> TrafficTotals::connections() const {
  std::vector<std::string> out;
  for (const auto& [name, counters] : retired_) out.push_back(name);
  for (const auto& [name, counts] : drops_) {
    if (!retired_.count(name)) out.push_back(name);
  }
  return out;
}

}  // namespace ergw::metrics
