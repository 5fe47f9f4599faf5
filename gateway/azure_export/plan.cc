#include "gateway/azure_export/plan.h"

#include <algorithm>
#include <set>

namespace ergw::azure_export {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string field(const std::string& base, const std::string& name) { return base.empty() ? name : base + "." + name; }

// Template parameter names: ARM compares them without regard to case, and
// Bicep needs an identifier, so a connection's name becomes letters, digits
// and '_' and a clash gets a number.
class ParameterNames {
 public:
  std::string take(const std::string& prefix, const std::string& connection_name) {
    std::string id;
    for (char c : connection_name) id += is_alnum(c) ? c : '_';
    std::string candidate = prefix + "_" + id;
    for (int n = 2; !taken_.insert(lower(candidate)).second; ++n) {
      candidate = prefix + "_" + id + "_" + std::to_string(n);
    }
    return candidate;
  }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
  }
  std::set<std::string> taken_;
};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// What the existing VPN gateway must be for this connection. Each query reads
// `az network vnet-gateway show`, whose flattened names are ARM's.
void add_gateway_requirements(const policy::ConnectionSpec& spec, const Connection& connection,
                              std::vector<GatewayRequirement>& out) {
  auto add = [&](std::string query, std::string expected, std::string reason) {
    GatewayRequirement r{connection.vpn_gateway_parameter, std::move(query), std::move(expected), std::move(reason)};
    const bool known = std::any_of(out.begin(), out.end(), [&](const GatewayRequirement& o) {
      return o.vpn_gateway_parameter == r.vpn_gateway_parameter && o.query == r.query;
    });
    if (!known) out.push_back(std::move(r));
  };
  // The gateway ergw's configuration points at: Azure lists each instance's
  // tunnel addresses (public, and private when enabled) there.
  for (const auto& address : spec.gateway.tunnel_ip_addresses) {
    add("contains(bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses[], " + quoted(address.to_string()) + ")", "true",
        "ergw's configuration dials " + address.to_string() + " (" +
            field(spec.gateway.source_path, "tunnelIpAddresses") + "): it must be a tunnel address of this gateway");
  }
  if (spec.gateway.tunnel_ip_addresses.size() > 1) {
    add("activeActive", "true",
        "ergw's configuration has a tunnel to each of " + std::to_string(spec.gateway.tunnel_ip_addresses.size()) +
            " gateway instances");
  }
  if (connection.use_local_azure_ip_address) {
    add("enablePrivateIpAddress", "true",
        "connection " + connection.name +
            " uses the gateway's private IP (S2S over ExpressRoute private peering); "
            "Azure requires enablePrivateIpAddress on the gateway for that");
  }
  if (connection.enable_bgp) {
    add("bgpSettings.asn", std::to_string(spec.gateway.asn),
        "ergw peers with AS " + std::to_string(spec.gateway.asn) + " (" +
            field(spec.gateway.source_path, "bgpSettings.asn") + ")");
    if (connection.gateway_custom_bgp_ip_addresses.empty()) {
      for (const auto& address : spec.gateway.bgp_peering_addresses) {
        add("contains(bgpSettings.bgpPeeringAddresses[].defaultBgpIpAddresses[], " + quoted(address.to_string()) + ")",
            "true",
            "ergw's BGP session goes to " + address.to_string() + " (" +
                field(spec.gateway.source_path, "bgpSettings.bgpPeeringAddress") + ")");
      }
    }
    for (const auto& custom : connection.gateway_custom_bgp_ip_addresses) {
      add("contains(bgpSettings.bgpPeeringAddresses[].customBgpIpAddresses[], " + quoted(custom.address.to_string()) +
              ")",
          "true",
          "the connection's APIPA BGP address " + custom.address.to_string() +
              " must be one of the gateway's custom APIPA addresses (Azure uses it only if the gateway has it)");
    }
  }
}

}  // namespace

std::string azure_resource_name_problem(const std::string& name) {
  if (name.empty() || name.size() > 80) {
    return "has " + std::to_string(name.size()) + " characters; Azure allows 1-80";
  }
  for (char c : name) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
      return "contains '" + std::string(1, c) + "'; Azure allows letters, digits, '_', '.' and '-'";
    }
  }
  if (!is_alnum(name.front()))
    return "starts with '" + std::string(1, name.front()) + "'; Azure requires a letter or digit";
  if (!is_alnum(name.back()) && name.back() != '_') {
    return "ends with '" + std::string(1, name.back()) + "'; Azure requires a letter, digit or '_'";
  }
  return {};
}

std::optional<AzureSide> plan_azure_side(const policy::ApplianceConfig& config, const ExportOptions& options,
                                         Diagnostics& diagnostics) {
  const size_t errors_before = diagnostics.error_count();
  AzureSide side;
  side.resource_group = options.resource_group;
  side.includes_shared_keys = options.include_shared_keys;
  if (!options.resource_group.empty()) {
    // docs/azure-facts.md, "Resource names": 1-90 characters, not ending in '.'.
    if (options.resource_group.size() > 90 || options.resource_group.back() == '.') {
      diagnostics.error("--resource-group", "\"" + options.resource_group +
                                                "\" cannot name a resource group: 1-90 characters, not ending in '.'");
    }
  }
  auto check_name = [&](const std::string& name, const std::string& path, const std::string& what) {
    if (auto problem = azure_resource_name_problem(name); !problem.empty()) {
      diagnostics.error(path, "\"" + name + "\" cannot name " + what + ": it " + problem);
    }
  };
  for (const auto& entry : options.vpn_gateway_by_connection) {
    // A named copy: clang 14 cannot capture a structured binding in a lambda.
    const std::string& connection = entry.first;
    const bool known = std::any_of(config.connections.begin(), config.connections.end(),
                                   [&](const policy::ConnectionSpec& s) { return s.name == connection; });
    if (!known) {
      diagnostics.error("--vnet-gateway", "\"" + connection + "\" is not a connection of this configuration");
    }
  }
  if (!options.vpn_gateway.empty()) check_name(options.vpn_gateway, "--vnet-gateway", "a VPN gateway");

  ParameterNames parameters;
  std::set<std::string> resource_names;  // compared without case ("Resource names")
  auto claim_name = [&](const std::string& name, const std::string& path) {
    std::string key = name;
    for (auto& c : key) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (!resource_names.insert(key).second) {
      diagnostics.error(path, "\"" + name +
                                  "\" names two resources in the export; Azure needs unique names in a "
                                  "resource group");
    }
  };

  for (const auto& spec : config.connections) {
    const auto& azure = spec.azure;
    const std::string name_path = field(spec.source_path, azure.name.empty() ? "name" : "azure.name");
    if (spec.bare_connection_object || !spec.local.address) {
      diagnostics.error(field(spec.source_path, "local.address"),
                        spec.bare_connection_object
                            ? "a bare Azure connection object has no local side; Azure's local network gateway needs "
                              "this appliance's address (gatewayIpAddress): put the object under \"azure\" in an ergw "
                              "configuration with local.address"
                            : "missing; Azure's local network gateway needs this appliance's IKE address "
                              "(gatewayIpAddress)");
      continue;
    }
    if (azure.connection_protocol != policy::ConnectionProtocol::IKEv2) {
      diagnostics.error(field(azure.source_path, "connectionProtocol"),
                        "\"IKEv1\" cannot be exported: ergw runs IKEv2 only; allowed: IKEv2");
    }
    if (azure.connection_type != policy::ConnectionType::IPsec) {
      diagnostics.error(field(azure.source_path, "connectionType"),
                        "\"" + std::string(policy::enum_name(azure.connection_type)) +
                            "\" is not a site-to-site connection; allowed: IPsec");
    }

    // Microsoft documents no IKE identity setting (docs/azure-facts.md,
    // "Connections"): what ergw presents or expects is not exported.
    if (spec.local.ike_identity && *spec.local.ike_identity != spec.local.address->to_string()) {
      diagnostics.note(field(spec.local.source_path, "ikeIdentity"),
                       "\"" + *spec.local.ike_identity +
                           "\" is not exported: Azure has no setting for the identity it expects; its local network "
                           "gateway knows this appliance by gatewayIpAddress only");
    }
    if (!spec.gateway.ike_identities.empty()) {
      diagnostics.note(field(spec.gateway.source_path, "ikeIdentity"),
                       "not exported: it describes what Azure presents, which no Azure setting changes");
    }

    LocalNetworkGateway lng;
    lng.name = "lgw-" + spec.name;
    lng.gateway_ip_address = *spec.local.address;
    check_name(lng.name, field(spec.source_path, "name"), "the local network gateway (lgw-<name>)");
    claim_name(lng.name, field(spec.source_path, "name"));
    if (azure.enable_bgp) {
      // With BGP the on-prem prefixes reach Azure over BGP; the address space
      // needs no host route to the BGP address, cannot hold an APIPA one, and
      // would turn anything else into static routes beside BGP
      // (docs/azure-facts.md, "BGP"). So it stays empty.
      lng.asn = spec.local.asn;
      lng.bgp_peering_address = spec.local.bgp_peering_address;
      if (!lng.asn || !lng.bgp_peering_address) {
        diagnostics.error(field(spec.local.source_path, !lng.asn ? "asn" : "bgpPeeringAddress"),
                          "missing; with enableBgp Azure's local network gateway needs bgpSettings.asn and "
                          "bgpSettings.bgpPeeringAddress");
      }
    } else {
      // Without BGP the address space is all Azure routes into the tunnel
      // (and, with policy-based selectors, the on-prem side of them;
      // docs/azure-facts.md, "BGP" and "Connections").
      lng.address_prefixes = spec.local.prefixes;
      if (lng.address_prefixes.empty()) {
        diagnostics.error(field(spec.local.source_path, "prefixes"),
                          "empty; without BGP Azure routes into the tunnel only the prefixes of the local network "
                          "gateway's address space (localNetworkAddressSpace.addressPrefixes)");
      }
    }

    Connection c;
    c.name = azure.name.empty() ? spec.name : azure.name;
    c.ergw_name = spec.name;
    c.source_path = spec.source_path;
    c.local_network_gateway = lng.name;
    check_name(c.name, name_path, "a connection");
    claim_name(c.name, name_path);
    if (auto it = options.vpn_gateway_by_connection.find(spec.name); it != options.vpn_gateway_by_connection.end()) {
      c.vpn_gateway = it->second;
      check_name(c.vpn_gateway, "--vnet-gateway", "a VPN gateway");
    } else {
      c.vpn_gateway = options.vpn_gateway;
    }
    c.vpn_gateway_parameter = parameters.take("vpnGatewayName", spec.name);
    c.shared_key_parameter = parameters.take("sharedKey", spec.name);
    if (options.include_shared_keys) {
      if (azure.shared_key.empty()) {
        diagnostics.error(field(azure.source_path, "sharedKey"),
                          "missing; --include-shared-key needs the PSK in ergw's configuration (sharedKey or "
                          "sharedKeyFile)");
      }
      c.shared_key = azure.shared_key;
    }
    c.connection_protocol = azure.connection_protocol;
    c.ipsec_policy = azure.custom_policy();
    c.dpd_timeout_seconds = azure.dpd_timeout_seconds;
    c.connection_mode = azure.connection_mode;
    c.enable_bgp = azure.enable_bgp;
    c.use_policy_based_traffic_selectors = azure.use_policy_based_traffic_selectors;
    if (c.use_policy_based_traffic_selectors) c.traffic_selector_policies = azure.traffic_selector_policies;
    c.use_local_azure_ip_address = azure.use_local_azure_ip_address;
    for (size_t i = 0; i < azure.gateway_custom_bgp_ip_addresses.size(); ++i) {
      const auto& custom = azure.gateway_custom_bgp_ip_addresses[i];
      if (custom.ip_configuration_id.empty()) {
        diagnostics.error(
            field(azure.source_path, "gatewayCustomBgpIpAddresses") + "[" + std::to_string(i) + "].ipConfigurationId",
            "missing; Azure binds a custom APIPA BGP address to one IP configuration of the VPN "
            "gateway: give its name (e.g. \"default\") or its resource id");
      }
      c.gateway_custom_bgp_ip_addresses.push_back({custom.ip_configuration_id, custom.address});
    }
    add_gateway_requirements(spec, c, side.gateway_requirements);
    side.local_network_gateways.push_back(std::move(lng));
    side.connections.push_back(std::move(c));
  }
  if (diagnostics.error_count() != errors_before) return std::nullopt;
  return side;
}

}  // namespace ergw::azure_export
