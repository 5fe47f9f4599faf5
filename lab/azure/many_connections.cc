#include "lab/azure/many_connections.h"

#include <cstdio>

#include "lab/azure/azure_lab.h"

namespace ergw::azure_lab {

std::string many_connection_name(const std::string& base_name, int index) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%03d", index + 1);
  return base_name + suffix;
}

std::string extra_azure_tunnel_address(int index) { return "172.16.1." + std::to_string(index); }
std::string extra_vnet_prefix(int index) { return "10.1." + std::to_string(index) + ".0/24"; }
std::string extra_vnet_address(int index) {
  return "10.1." + std::to_string(index) + "." + std::to_string(kFurtherVnetHostOffset);
}

Result<nlohmann::json> many_connections(const nlohmann::json& base, int count, const std::string& connection_mode) {
  if (count < 1 || count > kMaxLabConnections) {
    return Error{"connections: " + std::to_string(count) + " is out of range; the lab builds 1 to " +
                 std::to_string(kMaxLabConnections)};
  }
  if (!base.is_object() || !base.contains("connections") || !base["connections"].is_array() ||
      base["connections"].empty()) {
    return Error{"the base configuration has no connections[0] to repeat"};
  }
  const auto& first = base["connections"][0];
  const auto props = first.value("azure", nlohmann::json::object()).value("properties", nlohmann::json::object());
  if (props.value("enableBgp", false)) {
    return Error{"connections[0].azure.properties.enableBgp: true; the lab with many connections models static "
                 "routes only (false)"};
  }
  if (props.value("usePolicyBasedTrafficSelectors", false)) {
    return Error{"connections[0].azure.properties.usePolicyBasedTrafficSelectors: true; the lab with many "
                 "connections is route-based (false)"};
  }
  const std::string base_name = first.value("name", "");
  const std::string base_key = props.value("sharedKey", "");
  if (base_name.empty() || base_key.empty()) {
    return Error{"connections[0] needs a name and azure.properties.sharedKey"};
  }
  nlohmann::json out = base;
  out["connections"] = nlohmann::json::array();
  for (int i = 0; i < count; ++i) {
    nlohmann::json c = first;
    c["name"] = many_connection_name(base_name, i);
    auto& p = c["azure"]["properties"];
    p["sharedKey"] = base_key + many_connection_name("", i).substr(1);
    if (!connection_mode.empty()) p["connectionMode"] = connection_mode;
    if (i > 0) {
      c["azureGateway"]["tunnelIpAddresses"] = nlohmann::json::array({extra_azure_tunnel_address(i)});
      c["azureGateway"]["vnetPrefixes"] = nlohmann::json::array({extra_vnet_prefix(i)});
    }
    out["connections"].push_back(std::move(c));
  }
  return out;
}

}  // namespace ergw::azure_lab
