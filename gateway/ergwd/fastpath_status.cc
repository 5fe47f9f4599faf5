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

std::set<uint32_t> connection_spis(const nlohmann::json& connection) {
  std::set<uint32_t> spis;
  const auto add_children = [&](const nlohmann::json& children) {
    for (const auto& c : children) {
      for (const char* key : {"spi_in", "spi_out"}) {
        if (uint32_t spi = spi_value(c.value(key, "")); spi != 0) spis.insert(spi);
      }
    }
  };
  add_children(connection.value("children", nlohmann::json::array()));
  for (const auto& d : connection.value("duplicates", nlohmann::json::array())) {
    add_children(d.value("children", nlohmann::json::array()));
  }
  return spis;
}

bool shares_an_spi(const nlohmann::json& fastpath_connection, const std::set<uint32_t>& spis) {
  for (const auto& sa : fastpath_connection.value("sas", nlohmann::json::array())) {
    if (spis.count(spi_value(sa.value("spi", "")))) return true;
  }
  return false;
}

bool has(const std::vector<std::string>& plugins, const char* name) {
  return std::find(plugins.begin(), plugins.end(), name) != plugins.end();
}

}  // namespace

void add_fastpath_status(nlohmann::json& status, const nlohmann::json& report) {
  nlohmann::json daemon = report;
  daemon.erase("status");
  const nlohmann::json document = report.value("status", nlohmann::json::object());
  for (const char* key : {"sas", "policies", "routes", "table_drops"}) {
    if (document.contains(key)) daemon[key] = document[key];
  }
  status["fastpath"] = std::move(daemon);
  if (!status.contains("connections")) return;
  const auto fastpath_connections = document.value("connections", nlohmann::json::array());
  for (auto& connection : status["connections"]) {
    const auto spis = connection_spis(connection);
    nlohmann::json counters = {{"packets_in", 0}, {"bytes_in", 0}, {"packets_out", 0}, {"bytes_out", 0},
                               {"drops", nlohmann::json::object()}, {"reqids", nlohmann::json::array()}};
    bool found = false;
    for (const auto& fc : fastpath_connections) {
      if (!shares_an_spi(fc, spis)) continue;
      found = true;
      counters["reqids"].push_back(fc.value("reqid", 0));
      for (const char* key : {"packets_in", "bytes_in", "packets_out", "bytes_out"}) {
        counters[key] = counters[key].get<uint64_t>() + fc.value(key, uint64_t{0});
      }
      const nlohmann::json drops = fc.value("drops", nlohmann::json::object());
      for (const auto& [reason, count] : drops.items()) {
        counters["drops"][reason] = counters["drops"].value(reason, uint64_t{0}) + count.get<uint64_t>();
      }
    }
    if (found) connection["fastpath"] = std::move(counters);
  }
}

std::string charon_backend_problem(DataPlaneKind kind, const std::vector<std::string>& plugins) {
  const bool ergw_ipsec = has(plugins, "ergw-ipsec");
  const bool libipsec = has(plugins, "kernel-libipsec");
  switch (kind) {
    case DataPlaneKind::fastpath:
      if (libipsec) {
        return "charon loaded kernel-libipsec, which takes ESP away from the fast path: set "
               "charon.plugins.kernel-libipsec.load = no (ergwd writes it with --charon-settings) and restart charon";
      }
      if (!ergw_ipsec) {
        return "charon has not loaded the ergw-ipsec plugin, so no SA reaches the fast path: install it, load it "
               "before kernel-netlink (charon.plugins.ergw-ipsec.load = 10), and restart charon";
      }
      return "";
    case DataPlaneKind::libipsec:
      if (ergw_ipsec) return "charon loaded ergw-ipsec, but the data plane is libipsec: unload it and restart charon";
      if (!libipsec) return "charon has not loaded kernel-libipsec, which the libipsec data plane needs";
      return "";
    case DataPlaneKind::kernel:
      if (ergw_ipsec || libipsec) {
        return std::string("charon loaded ") + (ergw_ipsec ? "ergw-ipsec" : "kernel-libipsec") +
               ", so its SAs do not reach the kernel's XFRM: unload it and restart charon";
      }
      return "";
  }
  return "";
}

}  // namespace ergw::gateway
