#include "gateway/azure_export/az_script.h"

#include <algorithm>
#include <set>

namespace ergw::azure_export {
namespace {

ShellWord lit(std::string text) { return {{std::move(text), false}}; }
ShellWord var(std::string name) { return {{std::move(name), true}}; }

// Text as it sits inside a JSON string (without the quotes).
std::string json_string_body(const std::string& text) {
  const std::string dumped = nlohmann::json(text).dump();
  return dumped.substr(1, dumped.size() - 2);
}

std::string prefixes_json(const std::vector<IpPrefix>& prefixes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : prefixes) out.push_back(p.to_string());
  return out.dump();
}

const char* kResourceGroup = "RESOURCE_GROUP";

// The argv of one az command: `az <command...> --resource-group
// "$RESOURCE_GROUP"`, then its flags.
class Argv {
 public:
  explicit Argv(std::initializer_list<const char*> command) {
    words_.push_back(lit("az"));
    for (const char* word : command) words_.push_back(lit(word));
    flag("--resource-group", var(kResourceGroup));
  }
  Argv& flag(const std::string& name) { return value(lit(name)); }
  Argv& flag(const std::string& name, ShellWord word) { return flag(name).value(std::move(word)); }
  Argv& flag(const std::string& name, const std::string& text) { return flag(name, lit(text)); }
  Argv& flag(const std::string& name, const char* text) { return flag(name, lit(text)); }
  Argv& value(ShellWord word) {
    words_.push_back(std::move(word));
    return *this;
  }
  std::vector<ShellWord> take() { return std::move(words_); }

 private:
  std::vector<ShellWord> words_;
};

class ScriptBuilder {
 public:
  explicit ScriptBuilder(const AzureSide& side) : side_(side) {}

  AzScript build() {
    script_.variables.push_back({kResourceGroup, side_.resource_group, false,
                                 "the resource group of the VPN gateway; the new resources go there too"});
    for (const auto& c : side_.connections) add_variables(c);
    for (const auto& r : side_.gateway_requirements) {
      script_.checks.push_back({shell_variable_for(r.vpn_gateway_parameter), r});
    }
    for (size_t i = 0; i < side_.connections.size(); ++i) {
      add_commands(side_.local_network_gateways[i], side_.connections[i]);
    }
    return std::move(script_);
  }

 private:
  void add_variables(const Connection& c) {
    const std::string gateway = shell_variable_for(c.vpn_gateway_parameter);
    if (declared_.insert(gateway).second) {
      script_.variables.push_back(
          {gateway, c.vpn_gateway, false, "the name of the existing VPN gateway of connection " + c.name});
    }
    if (!side_.includes_shared_keys) {
      script_.variables.push_back({shell_variable_for(c.shared_key_parameter), "", true,
                                   "the PSK of connection " + c.name + " (ergw connection " + c.ergw_name +
                                       "): the key in ergw's sharedKey or sharedKeyFile"});
    }
  }

  void add(const Connection& c, std::string comment, std::vector<ShellWord> argv, std::string capture = {}) {
    script_.commands.push_back({c.name, std::move(comment), std::move(capture), std::move(argv)});
  }

  void add_commands(const LocalNetworkGateway& lng, const Connection& c) {
    add_local_gateway(lng, c);
    add_connection(lng, c);
    add_connection_settings(c);
    if (c.ipsec_policy) add_ipsec_policy(*c.ipsec_policy, c);
  }

  void add_local_gateway(const LocalNetworkGateway& lng, const Connection& c) {
    Argv argv({"network", "local-gateway", "create"});
    argv.flag("--name", lng.name).flag("--gateway-ip-address", lng.gateway_ip_address.to_string());
    if (!lng.address_prefixes.empty()) {
      argv.flag("--local-address-prefixes");
      for (const auto& p : lng.address_prefixes) argv.value(lit(p.to_string()));
    }
    if (lng.asn) argv.flag("--asn", std::to_string(*lng.asn));
    if (lng.bgp_peering_address) argv.flag("--bgp-peering-address", lng.bgp_peering_address->to_string());
    add(c,
        "Azure's picture of this appliance (" + c.source_path + "): " +
            (lng.asn ? "BGP, so no address space (the prefixes arrive over BGP)"
                     : "the on-prem prefixes Azure routes into the tunnel"),
        argv.take());
  }

  void add_connection(const LocalNetworkGateway& lng, const Connection& c) {
    Argv argv({"network", "vpn-connection", "create"});
    argv.flag("--name", c.name)
        .flag("--vnet-gateway1", var(shell_variable_for(c.vpn_gateway_parameter)))
        .flag("--local-gateway2", lng.name)
        .flag("--shared-key", side_.includes_shared_keys ? lit(c.shared_key.reveal())
                                                         : var(shell_variable_for(c.shared_key_parameter)));
    if (c.enable_bgp) argv.flag("--enable-bgp");
    if (c.use_policy_based_traffic_selectors) argv.flag("--use-policy-based-traffic-selectors", "true");
    add(c, "the connection (IKEv2, the default of az and of Azure)", argv.take());
  }

  // What `vpn-connection create` has no flag for, by the generic update.
  void add_connection_settings(const Connection& c) {
    Argv argv({"network", "vpn-connection", "update"});
    argv.flag("--name", c.name)
        .flag("--set", "connectionMode=" + std::string(policy::enum_name(c.connection_mode)))
        .value(lit("dpdTimeoutSeconds=" + std::to_string(c.dpd_timeout_seconds)))
        .value(lit(std::string("useLocalAzureIpAddress=") + (c.use_local_azure_ip_address ? "true" : "false")));
    if (!c.traffic_selector_policies.empty()) {
      std::string json = "[";
      for (size_t i = 0; i < c.traffic_selector_policies.size(); ++i) {
        const auto& ts = c.traffic_selector_policies[i];
        json += (i ? "," : "") + std::string("{\"localAddressRanges\":") + prefixes_json(ts.local_address_ranges) +
                ",\"remoteAddressRanges\":" + prefixes_json(ts.remote_address_ranges) + "}";
      }
      argv.value(lit("trafficSelectorPolicies=" + json + "]"));
    }
    if (!c.gateway_custom_bgp_ip_addresses.empty()) argv.value(custom_bgp_addresses(c));
    add(c, "what `vpn-connection create` has no flag for, in Azure's property names", argv.take());
  }

  // gatewayCustomBgpIpAddresses=[...]; an IP configuration given by name
  // needs the gateway's resource id, read first into a variable.
  ShellWord custom_bgp_addresses(const Connection& c) {
    const std::string gateway_id = "VPN_GATEWAY_ID_" + shell_variable_for(c.shared_key_parameter).substr(11);
    bool needs_id = false;
    ShellWord word = lit("gatewayCustomBgpIpAddresses=[");
    for (size_t i = 0; i < c.gateway_custom_bgp_ip_addresses.size(); ++i) {
      const auto& a = c.gateway_custom_bgp_ip_addresses[i];
      word.push_back({std::string(i ? "," : "") + "{\"ipConfigurationId\":\"", false});
      if (a.ip_configuration_is_id()) {
        word.push_back({json_string_body(a.ip_configuration), false});
      } else {
        needs_id = true;
        word.push_back({gateway_id, true});
        word.push_back({json_string_body("/ipConfigurations/" + a.ip_configuration), false});
      }
      word.push_back({"\",\"customBgpIpAddress\":\"" + a.address.to_string() + "\"}", false});
    }
    word.push_back({"]", false});
    if (needs_id) {
      Argv show({"network", "vnet-gateway", "show"});
      show.flag("--name", var(shell_variable_for(c.vpn_gateway_parameter)))
          .flag("--query", "id")
          .flag("--output", "tsv");
      add(c, "the gateway's resource id, for its IP configurations", show.take(), gateway_id);
    }
    return word;
  }

  void add_ipsec_policy(const policy::IpsecPolicy& p, const Connection& c) {
    Argv argv({"network", "vpn-connection", "ipsec-policy", "add"});
    argv.flag("--connection-name", c.name)
        .flag("--ike-encryption", std::string(policy::enum_name(p.ike_encryption)))
        .flag("--ike-integrity", std::string(policy::enum_name(p.ike_integrity)))
        .flag("--dh-group", std::string(policy::enum_name(p.dh_group)))
        .flag("--ipsec-encryption", std::string(policy::enum_name(p.ipsec_encryption)))
        .flag("--ipsec-integrity", std::string(policy::enum_name(p.ipsec_integrity)))
        .flag("--pfs-group", std::string(policy::enum_name(p.pfs_group)))
        .flag("--sa-lifetime", std::to_string(p.sa_lifetime_seconds))
        .flag("--sa-max-size", std::to_string(p.sa_data_size_kilobytes));
    add(c, "the custom IPsec/IKE policy (Azure requires all eight values)", argv.take());
  }

  const AzureSide& side_;
  AzScript script_;
  std::set<std::string> declared_;
};

// Adjacent literal parts are quoted as one, so that a word with a variable in
// the middle reads 'text'"$VAR"'text'.
std::string render_word(const ShellWord& word) {
  std::string out, literal;
  bool pending = false;
  for (const auto& part : word) {
    if (part.variable) {
      if (pending) out += shell_quote(literal);
      literal.clear();
      pending = false;
      out += "\"$" + part.text + "\"";
    } else {
      literal += part.text;
      pending = true;
    }
  }
  if (pending) out += shell_quote(literal);
  return out;
}

std::string json_word(const ShellWord& word) {
  std::string out;
  for (const auto& part : word) out += part.variable ? "${" + part.text + "}" : part.text;
  return out;
}

// "# " before every line of `text`.
std::string comment(const std::string& text) {
  std::string out = "# ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "# ";
  }
  return out + "\n";
}

}  // namespace

std::string shell_quote(const std::string& text) {
  if (text.empty()) return "''";
  bool safe = true;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '/' || c == ':' || c == '=' || c == ',' || c == '@' || c == '+';
    if (!ok) safe = false;
  }
  if (safe) return text;
  // Text with a ' but nothing double quotes would expand reads better in "".
  if (text.find('\'') != std::string::npos && text.find_first_of("$`\\\"!") == std::string::npos) {
    return "\"" + text + "\"";
  }
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string shell_variable_for(const std::string& parameter) {
  // The camelCase prefix (sharedKey, vpnGatewayName) is split into words; the
  // connection's part after the first '_' is only upper-cased, so that two
  // parameters that differ there (case-insensitively) stay two variables.
  const size_t prefix_end = std::min(parameter.find('_'), parameter.size());
  std::string out;
  for (size_t i = 0; i < parameter.size(); ++i) {
    const char c = parameter[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0 && i < prefix_end) out += '_';
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else if (upper || (c >= '0' && c <= '9') || c == '_') {
      out += c;
    } else {
      out += '_';
    }
  }
  return out;
}

AzScript az_script(const AzureSide& side) { return ScriptBuilder(side).build(); }

std::string render_az_script(const AzScript& script, const std::string& source) {
  std::string out = "#!/usr/bin/env bash\n";
  out += comment("The Azure side of " + source +
                 ", exported by `ergw azure export --format az`.\n"
                 "Creates a local network gateway and a connection per ergw connection; the VPN gateways exist\n"
                 "already and are only checked. Needs az (logged in) and bash.");
  out += "set -euo pipefail\n\n";
  for (const auto& v : script.variables) {
    out += comment(v.name + ": " + v.description);
    if (v.secret) {
      out += ": \"${" + v.name + ":?set " + v.name + " in the environment (read -rs " + v.name + " && export " +
             v.name + "); it is never printed}\"\n";
    } else if (v.default_value.empty()) {
      out += ": \"${" + v.name + ":?set " + v.name + " in the environment}\"\n";
    } else {
      out += v.name + "=${" + v.name + ":-" + shell_quote(v.default_value) + "}\n";
    }
  }
  if (!script.checks.empty()) {
    out += "\n" + comment("What each existing VPN gateway must already be; ergw never changes a gateway.");
    out +=
        "require_gateway() {\n"
        "  local actual\n"
        "  actual=$(az network vnet-gateway show --resource-group \"$RESOURCE_GROUP\" --name \"$1\" "
        "--query \"$2\" --output tsv)\n"
        "  if [ \"$actual\" != \"$3\" ]; then\n"
        "    echo \"VPN gateway $1: $2 is '$actual', must be '$3': $4\" >&2\n"
        "    exit 1\n"
        "  fi\n"
        "}\n";
    for (const auto& check : script.checks) {
      out += "require_gateway \"$" + check.gateway_variable + "\" " + shell_quote(check.requirement.query) + " " +
             shell_quote(check.requirement.expected) + " \\\n    " + shell_quote(check.requirement.reason) + "\n";
    }
  }
  std::string connection;
  for (const auto& command : script.commands) {
    if (command.connection != connection) {
      connection = command.connection;
      out += "\n" + comment("--- connection " + connection + " ---");
    }
    out += comment(command.comment);
    std::string line = command.capture_into.empty() ? "" : command.capture_into + "=$(";
    for (size_t i = 0; i < command.argv.size(); ++i) {
      const auto& word = command.argv[i];
      // Each flag starts a continuation line, so that a long command reads as a table.
      const bool flag = !word.empty() && !word[0].variable && word[0].text.rfind("--", 0) == 0;
      if (i > 0) line += (flag && i > 3) ? " \\\n    " : " ";
      line += render_word(word);
    }
    out += line + (command.capture_into.empty() ? "" : ")") + "\n";
  }
  return out;
}

nlohmann::ordered_json az_script_json(const AzScript& script) {
  nlohmann::ordered_json variables = nlohmann::ordered_json::array();
  for (const auto& v : script.variables) {
    nlohmann::ordered_json entry = {{"name", v.name}, {"description", v.description}, {"secret", v.secret}};
    if (!v.default_value.empty()) entry["default"] = v.default_value;
    variables.push_back(entry);
  }
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& c : script.checks) {
    checks.push_back({{"gateway", "${" + c.gateway_variable + "}"},
                      {"query", c.requirement.query},
                      {"expected", c.requirement.expected},
                      {"reason", c.requirement.reason}});
  }
  nlohmann::ordered_json commands = nlohmann::ordered_json::array();
  for (const auto& c : script.commands) {
    nlohmann::ordered_json argv = nlohmann::ordered_json::array();
    for (const auto& word : c.argv) argv.push_back(json_word(word));
    nlohmann::ordered_json entry = {{"connection", c.connection}, {"comment", c.comment}};
    if (!c.capture_into.empty()) entry["captureInto"] = c.capture_into;
    entry["argv"] = argv;
    commands.push_back(entry);
  }
  return {{"variables", variables}, {"gatewayChecks", checks}, {"commands", commands}};
}

}  // namespace ergw::azure_export
