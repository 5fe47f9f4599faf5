#include "gateway/azure_export/arm_template.h"

#include "gateway/azure_export/resource_properties.h"

namespace ergw::azure_export {
namespace {

// A string literal inside an ARM expression: single quotes, doubled inside.
std::string expression_string(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string gateway_id_expression(const std::string& gateway_parameter) {
  return "resourceId(" + expression_string(kVirtualNetworkGatewayType) + ", parameters(" +
         expression_string(gateway_parameter) + "))";
}

// ARM reads a string that starts with '[' and ends with ']' as an
// expression; a literal of that shape is escaped with a second '['.
std::string literal_string(const std::string& text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') return "[" + text;
  return text;
}

nlohmann::ordered_json string_parameter(const std::string& description) {
  return {{"type", "string"}, {"metadata", {{"description", description}}}};
}

}  // namespace

std::string arm_expression(const TemplateReference& r) {
  switch (r.kind) {
    case TemplateReference::Kind::parameter:
      return "[parameters(" + expression_string(r.name) + ")]";
    case TemplateReference::Kind::local_network_gateway_id:
      return "[resourceId(" + expression_string(kLocalNetworkGatewayType) + ", " + expression_string(r.name) + ")]";
    case TemplateReference::Kind::vpn_gateway_id:
      return "[" + gateway_id_expression(r.name) + "]";
    case TemplateReference::Kind::vpn_gateway_ip_configuration_id:
      return "[resourceId(" + expression_string(std::string(kVirtualNetworkGatewayType) + "/ipConfigurations") +
             ", parameters(" + expression_string(r.name) + "), " + expression_string(r.detail) + ")]";
  }
  return {};
}

nlohmann::ordered_json arm_value(const TemplateValue& value) {
  if (value.is<bool>()) return value.as<bool>();
  if (value.is<int64_t>()) return value.as<int64_t>();
  if (value.is<std::string>()) return literal_string(value.as<std::string>());
  if (value.is<TemplateReference>()) return arm_expression(value.as<TemplateReference>());
  if (value.is<TemplateValue::Array>()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& item : value.as<TemplateValue::Array>()) out.push_back(arm_value(item));
    return out;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [key, item] : value.as<TemplateValue::Object>()) out[key] = arm_value(item);
  return out;
}

nlohmann::ordered_json arm_template(const AzureSide& side, const std::string& source) {
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  parameters["location"] = {{"type", "string"},
                            {"defaultValue", "[resourceGroup().location]"},
                            {"metadata", {{"description", "Azure region of the new resources"}}}};
  nlohmann::ordered_json resources = nlohmann::ordered_json::array();
  nlohmann::ordered_json requirements = nlohmann::ordered_json::array();
  for (const auto& r : side.gateway_requirements) {
    requirements.push_back(
        {{"vpnGateway", r.vpn_gateway_parameter}, {"query", r.query}, {"expected", r.expected}, {"reason", r.reason}});
  }
  for (size_t i = 0; i < side.connections.size(); ++i) {
    const auto& c = side.connections[i];
    const auto& lng = side.local_network_gateways[i];
    auto gateway = string_parameter("Name of the existing VPN gateway (virtualNetworkGateways) of connection " +
                                    c.name + ", in this resource group");
    if (!c.vpn_gateway.empty()) gateway["defaultValue"] = c.vpn_gateway;
    parameters[c.vpn_gateway_parameter] = gateway;
    if (!side.includes_shared_keys) {
      parameters[c.shared_key_parameter] = {
          {"type", "securestring"},
          {"metadata",
           {{"description", "The PSK of connection " + c.name + " (ergw connection " + c.ergw_name +
                                "): the same key as ergw's sharedKey or sharedKeyFile"}}}};
    }
    resources.push_back({{"type", kLocalNetworkGatewayType},
                         {"apiVersion", kNetworkApiVersion},
                         {"name", lng.name},
                         {"location", "[parameters('location')]"},
                         {"properties", arm_value(local_network_gateway_properties(lng))}});
    resources.push_back(
        {{"type", kConnectionType},
         {"apiVersion", kNetworkApiVersion},
         {"name", c.name},
         {"location", "[parameters('location')]"},
         {"dependsOn",
          {arm_expression({TemplateReference::Kind::local_network_gateway_id, c.local_network_gateway, {}})}},
         {"properties", arm_value(connection_properties(c, side.includes_shared_keys))}});
  }
  nlohmann::ordered_json metadata = {
      {"description", "The Azure side of " + source +
                          ", exported by ergw azure export: a local network gateway and "
                          "a connection per ergw connection. The VPN gateways exist already; gatewayRequirements lists "
                          "what each must be (az network vnet-gateway show --query QUERY -o tsv prints EXPECTED)."},
      {"gatewayRequirements", requirements}};
  return {{"$schema", "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"},
          {"contentVersion", "1.0.0.0"},
          {"metadata", metadata},
          {"parameters", parameters},
          {"resources", resources}};
}

}  // namespace ergw::azure_export
