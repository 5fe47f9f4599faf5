#include "policy_test_support.h"

#include "gateway/policy/connection_reader.h"
#include "gateway/policy/validator.h"

namespace ergw::policy::testing {

Loaded load(const nlohmann::json& document) {
  Loaded out;
  out.config = read_configuration(document, ".", out.diagnostics);
  if (out.config) validate_configuration(*out.config, out.diagnostics);
  return out;
}

nlohmann::json with_policy(nlohmann::json policy) {
  auto doc = valid_config();
  doc["connections"][0]["azure"]["properties"]["ipsecPolicies"] = {std::move(policy)};
  return doc;
}

nlohmann::json strong_policy() {
  return {{"saLifeTimeSeconds", 27000},        {"saDataSizeKilobytes", 102400000}, {"ipsecEncryption", "GCMAES256"},
          {"ipsecIntegrity", "GCMAES256"},     {"ikeEncryption", "AES256"},        {"ikeIntegrity", "SHA256"},
          {"dhGroup", "DHGroup14"},            {"pfsGroup", "PFS2048"}};
}

nlohmann::json valid_config() {
  return nlohmann::json::parse(R"({
    "connections": [{
      "name": "hub",
      "azure": {
        "name": "hub-conn",
        "properties": {
          "connectionType": "IPsec",
          "connectionProtocol": "IKEv2",
          "sharedKey": "ThisIsALongEnoughTestKey0123456789",
          "dpdTimeoutSeconds": 45,
          "connectionMode": "Default",
          "enableBgp": true,
          "useLocalAzureIpAddress": true,
          "usePolicyBasedTrafficSelectors": false,
          "ipsecPolicies": []
        }
      },
      "azureGateway": {
        "tunnelIpAddresses": ["172.16.0.2"],
        "bgpSettings": {"asn": 65515, "bgpPeeringAddress": "10.0.255.30"},
        "vnetPrefixes": ["10.0.0.0/16"]
      },
      "local": {
        "address": "172.16.0.1",
        "prefixes": ["192.168.10.0/24"],
        "asn": 65010,
        "bgpPeeringAddress": "192.168.255.1"
      }
    }]
  })");
}

bool has(const Diagnostics& d, Severity severity, const std::string& path_suffix, const std::string& text) {
  for (const auto& item : d.all()) {
    if (item.severity != severity) continue;
    if (item.path.size() < path_suffix.size() ||
        item.path.compare(item.path.size() - path_suffix.size(), path_suffix.size(), path_suffix) != 0) {
      continue;
    }
    if (item.message.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string dump(const Diagnostics& d) { return d.format(); }

}  // namespace ergw::policy::testing
