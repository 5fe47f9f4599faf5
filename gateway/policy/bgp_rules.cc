// The BGP rules of a connection: Azure's (reserved ASNs, its APIPA range, the
// 4,000 prefixes it accepts, what it does with prefixes also announced over
// ExpressRoute) and what ergw's BGP session needs (IPv4, addresses that differ,
// exports that leave the VNet alone). ergwd builds its BIRD peers from a
// configuration that passed these, so `ergw policy check` and ergwd refuse
// the same files. Facts: docs/azure-facts.md, "BGP".
#include "gateway/policy/azure_rules.h"

#include <set>

namespace ergw::policy {
namespace {

constexpr const char* kUsableAsns =
    "allowed: a private ASN in 64512-65514 or 65521-65534, a 32-bit private ASN in 4200000000-4294967294, or a "
    "public ASN you hold";

std::string local_field(const ConnectionSpec& spec, const char* name) { return field_path(spec.local.source_path, name); }
std::string gateway_field(const ConnectionSpec& spec, const char* name) {
  return field_path(spec.gateway.source_path, name);
}

// Custom APIPA addresses must come from Azure's range, BGP or not: Azure
// refuses the connection otherwise.
void check_custom_bgp_addresses(const ConnectionSpec& spec, Diagnostics& d) {
  const auto& list = spec.azure.gateway_custom_bgp_ip_addresses;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& a = list[i].address;
    if (!in_azure_apipa_range(a)) {
      d.error(index_path(field_path(spec.azure.source_path, "gatewayCustomBgpIpAddresses"), i) + ".customBgpIpAddress",
              "\"" + a.to_string() + "\" is outside Azure's APIPA range for VPN; allowed: " + azure_apipa_range_text());
    }
  }
}

// BIRD's protocol for the connection is "ergw_<IKE connection name>", and
// ergw keeps BIRD symbols to 32 characters.
void check_bgp_name(const ConnectionSpec& spec, Diagnostics& d) {
  const size_t suffix = spec.gateway.tunnel_ip_addresses.size() > 1 ? 3 : 0;  // "-i0" per instance
  if (spec.name.size() + suffix > 32) {
    d.error(field_path(spec.source_path, "name"),
            "\"" + spec.name + "\" is too long for a connection with BGP: it names the BGP session; allowed: at "
                               "most " + std::to_string(32 - suffix) + " characters");
  }
}

void check_asns(const ConnectionSpec& spec, Diagnostics& d) {
  const auto& local = spec.local;
  if (!local.asn) {
    d.error(local_field(spec, "asn"), "missing; BGP needs this appliance's AS number (private: 64512-65514 or "
                                      "65521-65534)");
  } else {
    if (auto why = reserved_asn_reason(*local.asn); !why.empty()) {
      d.error(local_field(spec, "asn"), std::to_string(*local.asn) + " is " + why + "; " + kUsableAsns);
    }
    if (*local.asn == spec.gateway.asn) {
      d.error(local_field(spec, "asn"), std::to_string(*local.asn) +
                                            " equals the Azure gateway's ASN; Azure peers over eBGP only, the two "
                                            "ASNs must differ");
    }
  }
  if (auto why = impossible_asn_reason(spec.gateway.asn); !why.empty()) {
    d.error(gateway_field(spec, "bgpSettings.asn"),
            std::to_string(spec.gateway.asn) + " " + why + "; Azure's default is " + std::to_string(kAzureDefaultAsn));
  }
}

void check_local_bgp_address(const ConnectionSpec& spec, const std::optional<IpAddress>& azure, Diagnostics& d) {
  const auto& local = spec.local;
  const std::string where = local_field(spec, "bgpPeeringAddress");
  if (!local.bgp_peering_address) {
    d.error(where, "missing; BGP needs this appliance's BGP address (a loopback, or an APIPA address in " +
                       azure_apipa_range_text() + ")");
    return;
  }
  const auto& a = *local.bgp_peering_address;
  if (!a.is_v4()) {
    d.error(where, "\"" + a.to_string() + "\" is IPv6; Azure's VPN BGP sessions are IPv4; allowed: an IPv4 address");
    return;
  }
  if (is_link_local_v4(a) && !in_azure_apipa_range(a)) {
    d.error(where, "\"" + a.to_string() + "\" is an APIPA address outside Azure's range; allowed: " +
                       azure_apipa_range_text());
  }
  if (local.address && *local.address == a) {
    d.error(where, "must differ from the appliance's IKE address (Azure's rule); use a loopback or APIPA address");
  }
  if (azure && *azure == a) {
    d.error(where, "\"" + a.to_string() + "\" is Azure's BGP address too; the two ends need different addresses");
  }
  // "The on-premises BGP peer IP must not be ... from the VNet address space".
  for (const auto& vnet : spec.gateway.vnet_prefixes) {
    if (vnet.contains(a)) {
      d.error(where, "\"" + a.to_string() + "\" lies inside the VNet prefix " + vnet.to_string() +
                         "; allowed: an on-prem loopback or APIPA address outside the VNet");
    }
  }
}

void check_azure_bgp_address(const ConnectionSpec& spec, const std::optional<IpAddress>& azure, Diagnostics& d) {
  const std::string where = gateway_field(spec, "bgpSettings.bgpPeeringAddress");
  if (!azure) {
    d.error(where, "missing; BGP needs Azure's BGP address (the GatewaySubnet address Azure shows in "
                   "bgpSettings.bgpPeeringAddress, or a custom APIPA address in gatewayCustomBgpIpAddresses)");
    return;
  }
  if (!azure->is_v4()) {
    d.error(where, "\"" + azure->to_string() + "\" is IPv6; Azure's VPN BGP sessions are IPv4; allowed: an IPv4 "
                                               "address");
    return;
  }
  // Azure's own non-APIPA BGP address is a GatewaySubnet address, so it lies
  // in the VNet; anything else is most likely a typo.
  if (!is_link_local_v4(*azure) && !spec.gateway.vnet_prefixes.empty()) {
    bool in_vnet = false;
    for (const auto& vnet : spec.gateway.vnet_prefixes) in_vnet = in_vnet || vnet.contains(*azure);
    if (!in_vnet) {
      d.warning(where, "\"" + azure->to_string() + "\" is neither an APIPA address nor inside the VNet prefixes, "
                       "but Azure's BGP address is a GatewaySubnet address (or a custom APIPA address in " +
                           azure_apipa_range_text() + ")",
                "copy bgpSettings.bgpPeeringAddress from `az network vnet-gateway show`");
    }
  }
}

// What ergw announces to Azure: local.prefixes, exactly.
void check_exports(const ConnectionSpec& spec, const ValidationOptions& options, Diagnostics& d) {
  const auto& exports = spec.local.prefixes;
  const std::string list = local_field(spec, "prefixes");
  if (exports.size() > kAzureMaxAcceptedPrefixes) {
    d.error(list, std::to_string(exports.size()) + " prefixes to announce over BGP; Azure drops the session above " +
                      std::to_string(kAzureMaxAcceptedPrefixes) + "; allowed: at most " +
                      std::to_string(kAzureMaxAcceptedPrefixes) + " (summarize on-prem prefixes)");
  }
  std::set<IpPrefix> seen;
  for (size_t i = 0; i < exports.size(); ++i) {
    const IpPrefix& p = exports[i];
    const std::string where = index_path(list, i);
    if (!p.is_v4()) {
      d.error(where, p.to_string() + " is IPv6; Azure's VPN BGP sessions carry IPv4; allowed: IPv4 prefixes");
      continue;
    }
    if (!seen.insert(p).second) d.warning(where, p.to_string() + " is listed twice", "remove the duplicate");
    if (p.length() == 0) {
      d.error(where, p.to_string() + " is a default route: announced over BGP it would pull all of Azure's "
                                     "Internet-bound traffic to on-prem; allowed: specific prefixes");
      continue;
    }
    for (const IpPrefix& vnet : spec.gateway.vnet_prefixes) {
      if (p.overlaps(vnet)) {
        d.error(where, p.to_string() + " overlaps VNet prefix " + vnet.to_string() +
                           "; VNet prefixes are never announced to Azure; allowed: prefixes disjoint from the VNet");
      }
    }
    for (const IpPrefix& er : spec.local.express_route_prefixes) {
      Diagnostic finding;
      finding.severity = options.strict_expressroute ? Severity::error : Severity::warning;
      finding.path = where;
      if (p == er) {
        // Azure: "If you advertise the same prefixes over both ExpressRoute
        // and VPN connections, Azure will use the ExpressRoute path directly
        // without VPN protection."
        finding.message = p.to_string() + " is also announced over ExpressRoute; Azure prefers ExpressRoute for "
                                          "equal prefixes and that traffic would leave unencrypted";
      } else if (p.contains(er)) {
        // Azure picks the longest match, so the part ExpressRoute announces
        // more specifically still goes over ExpressRoute.
        finding.message = p.to_string() + " covers " + er.to_string() +
                          ", which is announced over ExpressRoute; Azure sends traffic for " + er.to_string() +
                          " over ExpressRoute, unencrypted";
      } else {
        continue;  // a more-specific or disjoint export is the fix, not a problem
      }
      finding.fix = "announce prefixes more specific than " + er.to_string() +
                    " over the VPN (e.g. its two halves), or prefixes disjoint from ExpressRoute's";
      if (finding.severity == Severity::error) {
        finding.message += "; allowed: prefixes more specific than, or disjoint from, " + er.to_string() +
                           " (--strict-expressroute)";
        finding.fix.clear();
      }
      d.add(std::move(finding));
    }
  }
  if (spec.gateway.vnet_prefixes.empty()) {
    d.warning(gateway_field(spec, "vnetPrefixes"),
              "empty; BGP exports can not be checked against the VNet, and the VNet is not filtered from them",
              "list the VNet's prefixes in azureGateway.vnetPrefixes");
  }
}

// Active-active: one BGP session per instance, each over its own tunnel, to
// that instance's own BGP address.
void check_bgp_per_instance(const ConnectionSpec& spec, Diagnostics& d) {
  const size_t instances = spec.gateway.tunnel_ip_addresses.size();
  if (instances < 2) return;
  const bool custom = !spec.azure.gateway_custom_bgp_ip_addresses.empty();
  const std::string where = custom ? field_path(spec.azure.source_path, "gatewayCustomBgpIpAddresses")
                                   : gateway_field(spec, "bgpSettings.bgpPeeringAddress");
  std::set<IpAddress> seen;
  for (size_t i = 0; i < instances; ++i) {
    const auto address = azure_bgp_address_of_instance(spec, i);
    if (!address) {
      // Azure gives every instance its own; a session per instance needs it.
      d.warning(where, "names " + std::to_string(i) + " BGP address(es) for an active-active gateway with " +
                           std::to_string(instances) + " instances: only the first " + std::to_string(i) +
                           " instance(s) get a BGP session, and the other tunnels carry no BGP routes",
                custom ? std::string("give a custom APIPA address for each instance, in the order of "
                                     "azureGateway.tunnelIpAddresses")
                       : std::string("copy both addresses as Azure prints them: \"10.12.255.4,10.12.255.5\""));
      return;
    }
    if (!seen.insert(*address).second) {
      d.error(where, address->to_string() + " is given for two instances; each instance has its own BGP address");
    }
  }
}

void check_bgp_with_nat(const ConnectionSpec& spec, Diagnostics& d) {
  if (!spec.azure.nat_rule_paths.empty() && !spec.azure.gateway_custom_bgp_ip_addresses.empty()) {
    d.error(field_path(spec.azure.source_path, "gatewayCustomBgpIpAddresses"),
            "Azure does not support NAT rules with APIPA BGP addresses; use the GatewaySubnet BGP address");
  }
}

// Linux keeps at most TCP_MD5SIG_MAXKEYLEN (80) bytes of a TCP MD5 key.
constexpr size_t kMaxBgpPasswordBytes = 80;

// The TCP MD5 password (RFC 2385) of the BGP session. Its value is never
// shown, not even in an error. Azure's VPN gateway documents no BGP
// authentication (VPN Gateway FAQ, "BGP and routing"; ARM BgpSettings has no
// key), unlike ExpressRoute peerings ("An MD5 hash if you choose to use one"):
// against Azure's gateway a password keeps the session down, so ergw warns.
void check_bgp_password(const ConnectionSpec& spec, Diagnostics& d) {
  if (!spec.bgp_password) return;
  const std::string& where = spec.bgp_password_path;
  const std::string& value = spec.bgp_password->reveal();
  if (value.empty() || value.size() > kMaxBgpPasswordBytes) {
    d.error(where, "length " + std::to_string(value.size()) + " (value not shown); allowed: 1-" +
                       std::to_string(kMaxBgpPasswordBytes) + " bytes");
    return;
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      d.error(where, "contains a control character, a non-ASCII byte, '\"' or '\\' (value not shown); allowed: "
                     "printable ASCII other than '\"' and '\\'");
      return;
    }
  }
  if (!spec.azure.enable_bgp) {
    d.warning(where, "set, but the connection does not enable BGP (enableBgp): the password is not used",
              "remove bgpPassword, or set enableBgp on the connection");
    return;
  }
  d.warning(where, "Azure's VPN gateway has no BGP password (no TCP MD5 setting in its BGP settings): against it "
                   "the session never establishes (its segments arrive unsigned and the kernel drops them)",
            "remove bgpPassword unless the BGP peer is not Azure's VPN gateway (a router or BIRD of your own "
            "behind the tunnel)");
}

}  // namespace

void check_bgp(const ConnectionSpec& spec, const ValidationOptions& options, Diagnostics& d) {
  check_custom_bgp_addresses(spec, d);
  check_bgp_password(spec, d);
  if (!spec.azure.enable_bgp || spec.bare_connection_object) return;
  const auto azure = azure_bgp_address(spec);
  check_bgp_name(spec, d);
  check_asns(spec, d);
  check_local_bgp_address(spec, azure, d);
  check_azure_bgp_address(spec, azure, d);
  check_exports(spec, options, d);
  check_bgp_with_nat(spec, d);
  check_bgp_per_instance(spec, d);
}

}  // namespace ergw::policy
