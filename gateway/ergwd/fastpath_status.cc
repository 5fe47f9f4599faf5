#include "gateway/ergwd/fastpath_status.h"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace ergw::gateway {
namespace {

// SPIs arrive as "8fbb6f37" from charon and "0x8fbb6f37" from the fast path.
uint32_t spi_value(const std::string& text) {
  if (text.empty()) return 0;
  return static_cast<uint32_t>(std::strtoul(text.c_str(), nullptr, 16));
}

std::set<uint32_t> tunnel_spis(const Tunnel& tunnel) {
  std::set<uint32_t> spis;
  for (const auto& ike : tunnel.ike_sas) {
    for (const auto& child : ike.child_sas) {
      for (const auto* text : {&child.spi_in, &child.spi_out}) {
        if (uint32_t spi = spi_value(*text); spi != 0) spis.insert(spi);
      }
    }
  }
  return spis;
}

// A member that is an array, or nullptr (json::value() would copy it).
const nlohmann::json* array_member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it != object.end() && it->is_array() ? &*it : nullptr;
}

}  // namespace

FastpathCounterIndex::FastpathCounterIndex(const nlohmann::json& document) {
  const auto* connections = array_member(document, "connections");
  if (connections == nullptr) return;
  for (const auto& fc : *connections) {
    const auto* sas = array_member(fc, "sas");
    if (sas == nullptr) continue;
    const size_t index = connections_.size();
    connections_.push_back(&fc);
    for (const auto& sa : *sas) {
      const auto spi = sa.is_object() && sa.contains("spi") && sa["spi"].is_string() ? spi_value(sa["spi"]) : 0;
      if (spi != 0) by_spi_.emplace(spi, index);
    }
  }
}

std::optional<FastpathCounters> FastpathCounterIndex::counters(const Tunnel& tunnel) const {
  std::set<size_t> matched;  // in the fast path's order
  for (uint32_t spi : tunnel_spis(tunnel)) {
    const auto [first, last] = by_spi_.equal_range(spi);
    for (auto it = first; it != last; ++it) matched.insert(it->second);
  }
  if (matched.empty()) return std::nullopt;
  FastpathCounters out;
  for (size_t index : matched) {
    const auto& fc = *connections_[index];
    out.reqids.push_back(fc.value("reqid", uint64_t{0}));
    out.packets_in += fc.value("packets_in", uint64_t{0});
    out.bytes_in += fc.value("bytes_in", uint64_t{0});
    out.packets_out += fc.value("packets_out", uint64_t{0});
    out.bytes_out += fc.value("bytes_out", uint64_t{0});
    if (const auto drops = fc.find("drops"); drops != fc.end() && drops->is_object()) {
      for (const auto& [reason, count] : drops->items()) {
        if (count.is_number_unsigned()) out.drops[reason] += count.get<uint64_t>();
      }
    }
  }
  return out;
}

std::optional<FastpathCounters> fastpath_counters(const Tunnel& tunnel, const nlohmann::json& document) {
  return FastpathCounterIndex(document).counters(tunnel);
}

nlohmann::json fastpath_counters_json(const FastpathCounters& c) {
  return {{"packets_in", c.packets_in}, {"bytes_in", c.bytes_in},   {"packets_out", c.packets_out},
          {"bytes_out", c.bytes_out},   {"drops", c.drops},         {"reqids", c.reqids}};
}

nlohmann::json fastpath_daemon_json(const nlohmann::json& report) {
  nlohmann::json daemon = report;
  daemon.erase("status");
  const nlohmann::json document = report.value("status", nlohmann::json::object());
  for (const char* key : {"sas", "policies", "routes", "table_drops"}) {
    if (document.contains(key)) daemon[key] = document[key];
  }
  return daemon;
}

}  // namespace ergw::gateway
