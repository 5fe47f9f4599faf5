#include "gateway/azure_export/bicep_template.h"

#include "gateway/azure_export/resource_properties.h"

namespace ergw::azure_export {
namespace {

// The per-connection suffix the planner made unique (sharedKey_<id>); every
// Bicep symbol of a connection is built from it, so symbols never clash.
std::string connection_id(const Connection& c) {
  const std::string prefix = "sharedKey_";
  return c.shared_key_parameter.rfind(prefix, 0) == 0 ? c.shared_key_parameter.substr(prefix.size())
                                                      : c.shared_key_parameter;
}

std::string gateway_symbol(const std::string& gateway_parameter) {
  const std::string prefix = "vpnGatewayName_";
  return "vpnGateway_" +
         (gateway_parameter.rfind(prefix, 0) == 0 ? gateway_parameter.substr(prefix.size()) : gateway_parameter);
}

bool is_identifier(const std::string& key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9')) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

class BicepWriter {
 public:
  explicit BicepWriter(const AzureSide& side) : side_(side) {}

  std::string value(const TemplateValue& v, int indent) const {
    if (v.is<bool>()) return v.as<bool>() ? "true" : "false";
    if (v.is<int64_t>()) return std::to_string(v.as<int64_t>());
    if (v.is<std::string>()) return bicep_string(v.as<std::string>());
    if (v.is<TemplateReference>()) return reference(v.as<TemplateReference>());
    const std::string pad(static_cast<size_t>(indent + 2), ' ');
    const std::string end_pad(static_cast<size_t>(indent), ' ');
    if (v.is<TemplateValue::Array>()) {
      const auto& items = v.as<TemplateValue::Array>();
      if (items.empty()) return "[]";
      std::string out = "[\n";
      for (const auto& item : items) out += pad + value(item, indent + 2) + "\n";
      return out + end_pad + "]";
    }
    const auto& members = v.as<TemplateValue::Object>();
    if (members.empty()) return "{}";
    std::string out = "{\n";
    for (const auto& [key, item] : members) {
      out += pad + (is_identifier(key) ? key : bicep_string(key)) + ": " + value(item, indent + 2) + "\n";
    }
    return out + end_pad + "}";
  }

 private:
  std::string reference(const TemplateReference& r) const {
    switch (r.kind) {
      case TemplateReference::Kind::parameter:
        return r.name;
      case TemplateReference::Kind::local_network_gateway_id:
        for (size_t i = 0; i < side_.local_network_gateways.size(); ++i) {
          if (side_.local_network_gateways[i].name == r.name)
            return "lgw_" + connection_id(side_.connections[i]) + ".id";
        }
        return bicep_string(r.name);  // not reached: the planner names only its own gateways
      case TemplateReference::Kind::vpn_gateway_id:
        return gateway_symbol(r.name) + ".id";
      case TemplateReference::Kind::vpn_gateway_ip_configuration_id: {
        // '${vpnGateway_x.id}/ipConfigurations/<name>'
        std::string literal = bicep_string("/ipConfigurations/" + r.detail);
        return "'${" + gateway_symbol(r.name) + ".id}" + literal.substr(1);
      }
    }
    return {};
  }

  const AzureSide& side_;
};

std::string comment_lines(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out + "\n";
}

}  // namespace

std::string bicep_string(const std::string& text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += c;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      out += "\\$";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string bicep_template(const AzureSide& side, const std::string& source) {
  BicepWriter writer(side);
  std::string out;
  out += comment_lines("The Azure side of " + source +
                           ", exported by `ergw azure export --format bicep`:\n"
                           "a local network gateway and a connection per ergw connection.\n"
                           "Deploy: az deployment group create --resource-group " +
                           (side.resource_group.empty() ? std::string("<resource group>") : side.resource_group) +
                           " --template-file <this file>",
                       "// ");
  if (!side.gateway_requirements.empty()) {
    out += "//\n// The existing VPN gateways must already be so (az network vnet-gateway show --query QUERY -o tsv):\n";
    for (const auto& r : side.gateway_requirements) {
      out += "//   " + r.vpn_gateway_parameter + ": " + r.query + " == " + r.expected + "\n//     (" + r.reason + ")\n";
    }
  }
  out += "\n@description('Azure region of the new resources')\nparam location string = resourceGroup().location\n";
  for (const auto& c : side.connections) {
    out += "\n@description(" + bicep_string("Name of the existing VPN gateway of connection " + c.name) + ")\n";
    out += "param " + c.vpn_gateway_parameter + " string" +
           (c.vpn_gateway.empty() ? std::string() : " = " + bicep_string(c.vpn_gateway)) + "\n";
    if (!side.includes_shared_keys) {
      out += "\n@secure()\n@description(" +
             bicep_string("The PSK of connection " + c.name + " (ergw connection " + c.ergw_name +
                          "): the same key as ergw's sharedKey or sharedKeyFile") +
             ")\nparam " + c.shared_key_parameter + " string\n";
    }
  }
  for (size_t i = 0; i < side.connections.size(); ++i) {
    const auto& c = side.connections[i];
    const auto& lng = side.local_network_gateways[i];
    const std::string id = connection_id(c);
    const std::string api = std::string("@") + kNetworkApiVersion + "'";
    out += "\nresource " + gateway_symbol(c.vpn_gateway_parameter) + " '" + kVirtualNetworkGatewayType + api +
           " existing = {\n  name: " + c.vpn_gateway_parameter + "\n}\n";
    out += "\nresource lgw_" + id + " '" + kLocalNetworkGatewayType + api + " = {\n  name: " + bicep_string(lng.name) +
           "\n  location: location\n  properties: " + writer.value(local_network_gateway_properties(lng), 2) + "\n}\n";
    out += "\nresource connection_" + id + " '" + kConnectionType + api + " = {\n  name: " + bicep_string(c.name) +
           "\n  location: location\n  properties: " +
           writer.value(connection_properties(c, side.includes_shared_keys), 2) + "\n}\n";
  }
  return out;
}

}  // namespace ergw::azure_export
