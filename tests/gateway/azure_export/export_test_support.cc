#include "tests/gateway/azure_export/export_test_support.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ergw::azure_export::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kGolden = fs::path(ERGW_SOURCE_DIR) / "tests/gateway/policy/golden";

const nlohmann::json* resource(const nlohmann::json& arm_template, const std::string& type, const std::string& name) {
  for (const auto& r : arm_template.at("resources")) {
    if (r.at("type") == type && r.at("name") == name) return &r;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json golden(const std::string& name) {
  std::ifstream in(kGolden / (name + ".json"));
  if (!in) throw std::runtime_error("no golden configuration " + name);
  return nlohmann::json::parse(in);
}

Loaded load(const nlohmann::json& document) {
  auto out = policy::testing::load(document);
  if (out.diagnostics.has_errors()) out.config.reset();
  return out;
}

AzureSide plan(const nlohmann::json& document, const ExportOptions& options) {
  auto loaded = load(document);
  if (!loaded.config) throw std::runtime_error("does not load: " + loaded.diagnostics.format());
  Diagnostics d;
  auto side = plan_azure_side(*loaded.config, options, d);
  if (!side) throw std::runtime_error("cannot be exported: " + d.format());
  return std::move(*side);
}

nlohmann::json configuration_from_template(const nlohmann::json& original, const nlohmann::json& arm_template) {
  nlohmann::json out = original;
  for (auto& connection : out.at("connections")) {
    const std::string ergw_name = connection.at("name");
    const auto& azure = connection.at("azure");
    const std::string azure_name = azure.contains("name") ? azure.at("name").get<std::string>() : ergw_name;
    const auto* exported = resource(arm_template, "Microsoft.Network/connections", azure_name);
    const auto* lng = resource(arm_template, "Microsoft.Network/localNetworkGateways", "lgw-" + ergw_name);
    if (exported == nullptr || lng == nullptr) throw std::runtime_error("the template lacks " + azure_name);
    const bool bgp = exported->at("properties").value("enableBgp", false);
    connection["azure"] = *exported;
    connection["localNetworkGateway"] = *lng;
    connection.erase("sharedKeyFile");
    connection.erase("ipsecPolicy");
    auto& local = connection["local"];
    for (const char* key : {"address", "asn", "bgpPeeringAddress"}) local.erase(key);
    // Without BGP the on-prem prefixes are Azure's (the address space); with
    // BGP they are what ergw advertises, which Azure does not hold.
    if (!bgp) local.erase("prefixes");
  }
  return out;
}

}  // namespace ergw::azure_export::testing
