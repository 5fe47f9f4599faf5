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

bool shares_an_spi(const nlohmann::json& fastpath_connection, const std::set<uint32_t>& spis) {
  for (const auto& sa : fastpath_connection.value("sas", nlohmann::json::array())) {
    if (spis.count(spi_value(sa.value("spi", "")))) return true;
  }
  return false;
}


}  // namespace

std::optional<FastpathCounters> fastpath_counters(const Tunnel& tunnel, const nlohmann::json& document) {
  const auto spis = tunnel_spis(tunnel);
  if (spis.empty()) return std::nullopt;
  std::optional<FastpathCounters> out;
  for (const auto& fc : document.value("connections", nlohmann::json::array())) {
    if (!shares_an_spi(fc, spis)) continue;
    if (!out) out.emplace();
    out->reqids.push_back(fc.value("reqid", uint64_t{0}));
    out->packets_in += fc.value("packets_in", uint64_t{0});
    out->bytes_in += fc.value("bytes_in", uint64_t{0});
    out->packets_out += fc.value("packets_out", uint64_t{0});
    out->bytes_out += fc.value("bytes_out", uint64_t{0});
    const nlohmann::json drops = fc.value("drops", nlohmann::json::object());
    for (const auto& [reason, count] : drops.items()) {
      if (count.is_number_unsigned()) out->drops[reason] += count.get<uint64_t>();
    }
  }
  return out;
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
