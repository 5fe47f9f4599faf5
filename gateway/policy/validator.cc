#include "gateway/policy/validator.h"

#include <map>
#include <regex>
#include <set>

namespace ergw::policy {

// --- predicates (azure_rules.h) ----------------------------------------------

std::string field_path(const std::string& base, const std::string& name) {
  return base.empty() ? name : base + "." + name;
}

std::string index_path(const std::string& base, size_t index) { return base + "[" + std::to_string(index) + "]"; }

bool is_valid_shared_key(const std::string& key) {
  if (key.empty()) return false;
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e || c == '-' || c == '~') return false;
  }
  return true;
}

bool is_link_local_v4(const IpAddress& a) { return a.is_v4() && (a.v4_host_order() >> 16) == ((169u << 8) | 254u); }

bool in_azure_apipa_range(const IpAddress& a) {
  return a.is_v4() && a.v4_host_order() >= kAzureApipaFirst && a.v4_host_order() <= kAzureApipaLast;
}

std::string azure_apipa_range_text() {
  return IpAddress::v4(kAzureApipaFirst).to_string() + " - " + IpAddress::v4(kAzureApipaLast).to_string();
}

std::string reserved_asn_reason(uint32_t asn) {
  // Azure reserves these for itself (docs/azure-facts.md, BGP).
  if (asn == 8074 || asn == 8075 || asn == 12076) return "reserved by Azure (public 8074, 8075, 12076)";
  if (asn == 65515 || (asn >= 65517 && asn <= 65520)) return "reserved by Azure (private 65515, 65517-65520)";
  // IANA: 0 (RFC 7607), 23456 AS_TRANS (RFC 6793), 64496-64511 and
  // 65536-65551 documentation (RFC 5398), 65535 and 4294967295 (RFC 7300).
  if (asn == 0) return "reserved by IANA (0, RFC 7607)";
  if (asn == 23456) return "reserved by IANA (23456, AS_TRANS, RFC 6793)";
  if (asn >= 64496 && asn <= 64511) return "reserved by IANA (64496-64511, documentation, RFC 5398)";
  if (asn >= 65535 && asn <= 65551) return "reserved by IANA (65535-65551, RFC 7300 and RFC 5398)";
  if (asn == 4294967295u) return "reserved by IANA (4294967295, RFC 7300)";
  return {};
}

std::string impossible_asn_reason(uint32_t asn) {
  if (asn == 0 || asn == 23456 || asn == 4294967295u) {
    return "can not be a BGP speaker's ASN (0, 23456 and 4294967295 are reserved by IANA)";
  }
  return {};
}

// --- the steps of validate_connection ----------------------------------------

namespace {

void check_name(const ConnectionSpec& spec, Diagnostics& d) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
  if (!std::regex_match(spec.name, kName)) {
    d.error(field_path(spec.source_path, "name"),
            "\"" + spec.name + "\" cannot name a connection; allowed: 1-63 letters, digits, '_', '.', '-', "
                               "starting with a letter or digit");
  }
}

void check_type_and_protocol(const AzureConnection& c, Diagnostics& d) {
  if (c.connection_type != ConnectionType::IPsec) {
    d.error(field_path(c.source_path, "connectionType"),
            "\"" + std::string(enum_name(c.connection_type)) +
                "\" is not a site-to-site IPsec connection; allowed: IPsec");
  }
  if (c.connection_protocol == ConnectionProtocol::IKEv1) {
    d.error(field_path(c.source_path, "connectionProtocol"),
            "\"IKEv1\" is not supported: Azure's IKEv1 tunnels drop for up to 5 s at every main-mode rekey "
            "(no in-place rekey) and Azure recommends IKEv2; allowed: IKEv2. Azure cannot change the protocol of "
            "an existing connection: recreate it with --connection-protocol IKEv2");
  }
}

void check_shared_key(const ConnectionSpec& spec, Diagnostics& d) {
  const auto& c = spec.azure;
  const std::string where = field_path(c.source_path, "sharedKey");
  if (c.shared_key.empty()) {
    if (spec.bare_connection_object) {
      d.note(where, "not given (az network vpn-connection show does not print it)",
             "give it as sharedKey or sharedKeyFile in ergw's configuration");
    } else {
      d.error(where, "missing; give the connection's PSK as azure.sharedKey or as sharedKeyFile");
    }
  } else if (!is_valid_shared_key(c.shared_key.reveal())) {
    d.error(where, "contains a character Azure refuses (value not shown); allowed: printable ASCII except space, "
                   "'-' and '~'");
  } else if (c.shared_key.size() < 20) {
    d.warning(where, "is only " + std::to_string(c.shared_key.size()) + " characters long",
              "use a random key of 32 or more characters (Azure generates one per connection by default)");
  }
}

void check_policy_or_defaults(const AzureConnection& c, Diagnostics& d) {
  if (c.ipsec_policy) {
    check_ipsec_policy(*c.ipsec_policy, c.ipsec_policy_path, d);
    return;
  }
  // Azure's defaults (docs/azure-facts.md): MODP-1024 for IKE, and as
  // initiator no PFS - a peer that requires PFS fails at the first rekey.
  d.warning(field_path(c.source_path, "ipsecPolicies"),
            "no custom policy: Azure offers its defaults, whose IKE group is MODP-1024 (DH group 2, breakable) "
            "with 3DES and SHA1 among the offers, and as initiator Azure offers no PFS, so ergw must not require "
            "PFS either (a tunnel that requires it comes up and dies at the first rekey)",
            "set a custom policy on the connection, e.g. az network vpn-connection ipsec-policy add "
            "--ike-encryption GCMAES256 --ike-integrity SHA384 --dh-group ECP384 --ipsec-encryption GCMAES256 "
            "--ipsec-integrity GCMAES256 --pfs-group ECP384 --sa-lifetime 27000 --sa-max-size 102400000");
}

void check_dpd(const AzureConnection& c, Diagnostics& d) {
  if (c.dpd_timeout_seconds < kAzureRecommendedMinDpdTimeoutSeconds) {
    d.warning(field_path(c.source_path, "dpdTimeoutSeconds"),
              std::to_string(c.dpd_timeout_seconds) +
                  " s: Azure recommends 30-45 s; shorter timeouts make tunnels appear to flap",
              "set dpdTimeoutSeconds to " + std::to_string(kAzureDefaultDpdTimeoutSeconds));
  }
}

void check_traffic_selectors(const ConnectionSpec& spec, Diagnostics& d) {
  const auto& c = spec.azure;
  const std::string list = field_path(c.source_path, "trafficSelectorPolicies");
  if (c.use_policy_based_traffic_selectors) {
    d.warning(field_path(c.source_path, "usePolicyBasedTrafficSelectors"),
              "policy-based traffic selectors: one CHILD SA per pair of on-prem and VNet prefixes, no route-based "
              "interface, and Azure proposes its selectors only when it initiates",
              "prefer route-based (any-to-any) selectors with BGP unless the peer must be policy-based");
    if (c.traffic_selector_policies.empty() && !spec.bare_connection_object &&
        (spec.local.prefixes.empty() || spec.gateway.vnet_prefixes.empty())) {
      d.error(list, "empty, and ergw needs local.prefixes and azureGateway.vnetPrefixes to build Azure's implicit "
                    "selectors (every on-prem prefix with every VNet prefix)");
    }
  } else if (!c.traffic_selector_policies.empty()) {
    d.warning(list, "ignored: Azure applies them only with usePolicyBasedTrafficSelectors = true",
              "remove them, or set usePolicyBasedTrafficSelectors");
  }
  for (size_t i = 0; i < c.traffic_selector_policies.size(); ++i) {
    const auto& ts = c.traffic_selector_policies[i];
    if (ts.local_address_ranges.empty() || ts.remote_address_ranges.empty()) {
      d.error(index_path(list, i), "needs at least one localAddressRanges and one remoteAddressRanges prefix");
    }
  }
}

void check_nat_rules(const AzureConnection& c, Diagnostics& d) {
  for (const auto& path : c.nat_rule_paths) {
    d.warning(path,
              "Azure NAT rules translate on Azure's side only; ergw does no NAT, so the on-prem and VNet prefixes "
              "ergw routes and advertises must be the translated (external mapping) ones",
              "list the external mappings in local.prefixes and azureGateway.vnetPrefixes");
  }
  if (!c.nat_rule_paths.empty() && c.use_policy_based_traffic_selectors) {
    d.error(field_path(c.source_path, "usePolicyBasedTrafficSelectors"),
            "Azure does not support NAT rules on connections with policy-based traffic selectors; allowed: false "
            "while NAT rules are set");
  }
}

// Identities go into swanctl.conf and into vici as strings: printable, no
// quotes or backslashes. strongSwan reads an IP address, an FQDN
// (example.com or @example.com), an email address or a DN from it.
std::string identity_problem(const std::string& id) {
  if (id.empty()) return "is empty";
  if (id.size() > 255) return "is longer than 255 characters";
  for (unsigned char c : id) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      return "contains a control character, a non-ASCII character, '\"' or '\\'";
    }
  }
  if (id.front() == ' ' || id.back() == ' ') return "starts or ends with a space";
  return {};
}

constexpr const char* kIdentityForms =
    "allowed: an IP address, an FQDN (vpn.example.com or @vpn.example.com), an email address (user@example.com) or "
    "a distinguished name";

void check_identities(const ConnectionSpec& spec, Diagnostics& d) {
  if (spec.local.ike_identity) {
    const std::string where = field_path(spec.local.source_path, "ikeIdentity");
    const auto& id = *spec.local.ike_identity;
    if (auto problem = identity_problem(id); !problem.empty()) {
      d.error(where, "\"" + id + "\" " + problem + "; " + kIdentityForms);
    } else if (id == "%any") {
      d.error(where, "\"%any\" cannot be this appliance's own identity; " + std::string(kIdentityForms));
    }
  }
  const auto& ids = spec.gateway.ike_identities;
  const std::string list = field_path(spec.gateway.source_path, "ikeIdentity");
  const size_t tunnels = spec.gateway.tunnel_ip_addresses.size();
  if (ids.size() > 1 && ids.size() != tunnels) {
    d.error(list, std::to_string(ids.size()) + " identities for " + std::to_string(tunnels) +
                      " tunnel address(es); allowed: one identity for every instance, or one per tunnel address");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string where = ids.size() == 1 ? list : index_path(list, i);
    if (auto problem = identity_problem(ids[i]); !problem.empty()) {
      d.error(where, "\"" + ids[i] + "\" " + problem + "; " + kIdentityForms + ", or %any");
    } else if (ids[i] == "%any") {
      d.warning(where, "\"%any\": ergw accepts whatever identity the Azure side presents; the key alone "
                       "authenticates it",
                "give the identity Azure presents (its tunnel address unless you know otherwise)");
    }
  }
}

void check_addresses(const ConnectionSpec& spec, Diagnostics& d) {
  if (spec.bare_connection_object) return;
  const auto& c = spec.azure;
  const auto& gateway = spec.gateway;
  if (!spec.local.address) {
    d.error(field_path(spec.local.source_path, "address"), "missing; the appliance's IKE address toward Azure");
  }
  const std::string tunnels = field_path(gateway.source_path, "tunnelIpAddresses");
  if (gateway.tunnel_ip_addresses.empty()) {
    d.error(tunnels, std::string("missing; the Azure gateway's ") +
                         (c.use_local_azure_ip_address ? "private" : "public") + " tunnel IP address(es)");
  }
  for (const auto& remote : gateway.tunnel_ip_addresses) {
    if (spec.local.address && spec.local.address->family() != remote.family()) {
      d.error(tunnels, remote.to_string() + " and the local address " + spec.local.address->to_string() +
                           " are of different IP families");
    }
  }
  if (gateway.active_active && gateway.tunnel_ip_addresses.size() < 2) {
    d.warning(field_path(gateway.source_path, "activeActive"),
              "the gateway is active-active but only one tunnel address is known: Azure expects a tunnel to each "
              "instance, and the one tunnel goes down during Azure's maintenance",
              "list both instances' addresses in azureGateway.tunnelIpAddresses");
  }
  if (spec.preferred_instance && *spec.preferred_instance >= gateway.tunnel_ip_addresses.size()) {
    d.error(field_path(spec.source_path, "preferredInstance"),
            std::to_string(*spec.preferred_instance) + " names no instance: the gateway has " +
                std::to_string(gateway.tunnel_ip_addresses.size()) +
                " tunnel address(es); allowed: \"none\", or 0 or 1 with two addresses in "
                "azureGateway.tunnelIpAddresses (active-active)");
  }
  if (!c.enable_bgp && gateway.vnet_prefixes.empty() && !c.use_policy_based_traffic_selectors) {
    d.warning(field_path(gateway.source_path, "vnetPrefixes"),
              "no BGP and no VNet prefixes: nothing will be routed into the tunnel",
              "list the VNet's prefixes, or enable BGP on the connection");
  }
}

// Across connections: names and interface ids are keys.
void check_unique_keys(const ApplianceConfig& config, Diagnostics& d) {
  std::map<std::string, size_t> names;
  std::map<uint32_t, size_t> interface_ids;
  for (size_t i = 0; i < config.connections.size(); ++i) {
    const auto& spec = config.connections[i];
    if (auto [it, inserted] = names.emplace(spec.name, i); !inserted) {
      d.error(field_path(spec.source_path, "name"), "\"" + spec.name + "\" is also the name of connections[" +
                                                        std::to_string(it->second) + "]; names must be unique");
    }
    if (!spec.interface_id) continue;
    if (auto [it, inserted] = interface_ids.emplace(*spec.interface_id, i); !inserted) {
      d.error(field_path(spec.source_path, "interfaceId"), std::to_string(*spec.interface_id) +
                                                               " is also used by connections[" +
                                                               std::to_string(it->second) + "]");
    }
  }
}

}  // namespace

void validate_connection(const ConnectionSpec& spec, Diagnostics& d, const ValidationOptions& options) {
  check_name(spec, d);
  check_type_and_protocol(spec.azure, d);
  check_shared_key(spec, d);
  check_policy_or_defaults(spec.azure, d);
  check_dpd(spec.azure, d);
  check_traffic_selectors(spec, d);
  check_nat_rules(spec.azure, d);
  check_bgp(spec, options, d);
  check_identities(spec, d);
  check_addresses(spec, d);
}

void validate_configuration(const ApplianceConfig& config, Diagnostics& d, const ValidationOptions& options) {
  for (const auto& spec : config.connections) validate_connection(spec, d, options);
  check_unique_keys(config, d);
  if (config.connections.empty()) d.error("connections", "empty; the configuration needs at least one connection");
}

}  // namespace ergw::policy
