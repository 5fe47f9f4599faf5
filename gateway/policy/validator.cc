#include "gateway/policy/validator.h"

#include <map>
#include <regex>
#include <set>

namespace ergw::policy {
namespace {

std::string field(const std::string& base, const char* name) { return base.empty() ? name : base + "." + name; }

void validate_policy(const IpsecPolicy& p, const std::string& path, Diagnostics& d) {
  // azure.md §1.3, the GCM rule: the same GCMAES value for IPsec encryption and
  // integrity (the cmdlet throws unless they are equal when either is GCM).
  if ((is_gcm(p.ipsec_encryption) || is_gcm(p.ipsec_integrity)) &&
      enum_name(p.ipsec_encryption) != enum_name(p.ipsec_integrity)) {
    d.error(field(path, "ipsecIntegrity"),
            std::string("\"") + std::string(enum_name(p.ipsec_integrity)) + "\" does not match ipsecEncryption \"" +
                std::string(enum_name(p.ipsec_encryption)) +
                "\"; with GCM, Azure requires the same GCMAES algorithm and key length for both (e.g. GCMAES256 "
                "and GCMAES256)");
  }
  // IKE integrity doubles as the PRF; with GCM encryption it is the PRF only
  // (azure.md §1.3). A GCM value there leaves no PRF to derive keys with.
  if (is_gcm(p.ike_integrity)) {
    if (!is_gcm(p.ike_encryption) || enum_name(p.ike_encryption) != enum_name(p.ike_integrity)) {
      d.error(field(path, "ikeIntegrity"), std::string("\"") + std::string(enum_name(p.ike_integrity)) +
                                               "\" is only meaningful with ikeEncryption \"" +
                                               std::string(enum_name(p.ike_integrity)) +
                                               "\"; allowed with " + std::string(enum_name(p.ike_encryption)) +
                                               ": MD5, SHA1, SHA256, SHA384");
    } else {
      d.error(field(path, "ikeIntegrity"),
              std::string("\"") + std::string(enum_name(p.ike_integrity)) +
                  "\" leaves IKE without a PRF: Azure uses ikeIntegrity as the PRF when ikeEncryption is GCM, and "
                  "its current documentation lists SHA384, SHA256, SHA1, MD5 there; allowed: SHA384, SHA256, "
                  "SHA1, MD5");
    }
  }
  if (p.dh_group == DhGroup::None) {
    d.error(field(path, "dhGroup"), "\"None\" cannot key IKEv2: IKE_SA_INIT always carries a key exchange; "
                                    "allowed: DHGroup1, DHGroup2, DHGroup14, DHGroup2048, ECP256, ECP384, DHGroup24");
  }
  // Weak algorithms Azure still accepts.
  auto weak = [&](const char* name, std::string_view value, const std::string& why, const std::string& fix) {
    d.warning(field(path, name), std::string("\"") + std::string(value) + "\" " + why, fix);
  };
  if (p.ike_encryption == IkeEncryption::DES || p.ike_encryption == IkeEncryption::DES3) {
    weak("ikeEncryption", enum_name(p.ike_encryption), "is a 64-bit block cipher (DES is also broken)",
         "use GCMAES256 or AES256");
  }
  if (p.ipsec_encryption == IpsecEncryption::DES || p.ipsec_encryption == IpsecEncryption::DES3) {
    weak("ipsecEncryption", enum_name(p.ipsec_encryption),
         "is a 64-bit block cipher (DES is also broken); Azure also measures it at a fifth of GCM's throughput",
         "use GCMAES256 for both ipsecEncryption and ipsecIntegrity");
  }
  if (p.ipsec_encryption == IpsecEncryption::None) {
    weak("ipsecEncryption", "None", "sends the traffic unencrypted (ESP NULL): integrity only",
         "use GCMAES256 for both ipsecEncryption and ipsecIntegrity");
  }
  if (p.ike_integrity == IkeIntegrity::MD5 || p.ike_integrity == IkeIntegrity::SHA1) {
    weak("ikeIntegrity", enum_name(p.ike_integrity), "is a deprecated hash for IKE integrity and PRF",
         "use SHA384 or SHA256");
  }
  if (p.ipsec_integrity == IpsecIntegrity::MD5 || p.ipsec_integrity == IpsecIntegrity::SHA1) {
    weak("ipsecIntegrity", enum_name(p.ipsec_integrity), "is a deprecated hash", "use SHA256, or GCMAES256 with "
                                                                                 "GCMAES256 encryption");
  }
  if (p.dh_group == DhGroup::DHGroup1 || p.dh_group == DhGroup::DHGroup2) {
    weak("dhGroup", enum_name(p.dh_group), "is a 768/1024-bit MODP group, breakable today",
         "use ECP384, ECP256, DHGroup24 or DHGroup14");
  }
  if (p.pfs_group == PfsGroup::PFS1 || p.pfs_group == PfsGroup::PFS2) {
    weak("pfsGroup", enum_name(p.pfs_group), "is a 768/1024-bit MODP group, breakable today",
         "use ECP384, ECP256, PFS24 or PFS2048");
  }
  // azure.md §1.2: Azure documents neither PFS14 nor PFSMM; the Windows IPsec
  // API defines them. A guess that differs from Azure's shows only at the
  // first CHILD rekey (azure.md §7 pitfall 2).
  if (p.pfs_group == PfsGroup::PFS14 || p.pfs_group == PfsGroup::PFSMM) {
    d.warning(field(path, "pfsGroup"),
              std::string("\"") + std::string(enum_name(p.pfs_group)) +
                  "\" is not documented by Azure; ergw assumes the Windows meaning (" +
                  (p.pfs_group == PfsGroup::PFS14 ? "DH group 14, modp2048" : "the same group as dhGroup") +
                  "). If Azure's side means otherwise, the tunnel comes up and dies at the first CHILD SA rekey",
              p.pfs_group == PfsGroup::PFS14 ? "use PFS2048 (the documented name for group 14)"
                                             : "name the group explicitly (e.g. ECP384 or PFS2048)");
  }
}

}  // namespace

bool is_valid_shared_key(const std::string& key) {
  if (key.empty()) return false;
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e || c == '-' || c == '~') return false;
  }
  return true;
}

bool is_link_local_v4(const IpAddress& a) { return IpPrefix::parse("169.254.0.0/16")->contains(a); }

bool in_azure_apipa_range(const IpAddress& a) {
  return IpPrefix::parse("169.254.21.0/24")->contains(a) || IpPrefix::parse("169.254.22.0/24")->contains(a);
}

std::string reserved_asn_reason(uint32_t asn) {
  // azure.md §4: reserved by Azure, and by IANA.
  static const std::set<uint32_t> kAzure = {8074, 8075, 12076, 65515, 65517, 65518, 65519, 65520};
  if (kAzure.count(asn)) return "reserved by Azure (8074, 8075, 12076, 65515, 65517-65520)";
  if (asn == 0 || asn == 23456 || (asn >= 64496 && asn <= 64511) || (asn >= 65535 && asn <= 65551) ||
      asn == 4294967295u) {
    return "reserved by IANA (0, 23456, 64496-64511, 65535-65551, 4294967295)";
  }
  return {};
}

void validate_connection(const ConnectionSpec& spec, Diagnostics& d) {
  const auto& c = spec.azure;
  const std::string& base = c.source_path;
  const bool bare = spec.bare_connection_object;

  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
  if (!std::regex_match(spec.name, kName)) {
    d.error(field(spec.source_path, "name"),
            "\"" + spec.name + "\" cannot name a connection; allowed: 1-63 letters, digits, '_', '.', '-', "
                               "starting with a letter or digit");
  }
  if (c.connection_type != ConnectionType::IPsec) {
    d.error(field(base, "connectionType"), "\"" + std::string(enum_name(c.connection_type)) +
                                               "\" is not a site-to-site IPsec connection; allowed: IPsec");
  }
  if (c.connection_protocol == ConnectionProtocol::IKEv1) {
    d.error(field(base, "connectionProtocol"),
            "\"IKEv1\" is not supported: Azure's IKEv1 tunnels drop for up to 5 s at every main-mode rekey "
            "(no in-place rekey) and Azure recommends IKEv2; allowed: IKEv2. Azure cannot change the protocol of "
            "an existing connection: recreate it with --connection-protocol IKEv2");
  }
  if (c.shared_key.empty()) {
    if (bare) {
      d.note(field(base, "sharedKey"), "not given (az network vpn-connection show does not print it)",
             "give it as sharedKey or sharedKeyFile in ergw's configuration");
    } else {
      d.error(field(base, "sharedKey"), "missing; give the connection's PSK as azure.sharedKey or as sharedKeyFile");
    }
  } else if (!is_valid_shared_key(c.shared_key.reveal())) {
    d.error(field(base, "sharedKey"), "contains a character Azure refuses (value not shown); allowed: printable "
                                      "ASCII except space, '-' and '~'");
  } else if (c.shared_key.size() < 20) {
    d.warning(field(base, "sharedKey"), "is only " + std::to_string(c.shared_key.size()) + " characters long",
              "use a random key of 32 or more characters (Azure generates one per connection by default)");
  }

  if (c.ipsec_policy) {
    validate_policy(*c.ipsec_policy, c.ipsec_policy_path, d);
  } else {
    // azure.md §2.1/§2.2 and pitfall 1 and 2.
    d.warning(field(base, "ipsecPolicies"),
              "no custom policy: Azure offers its defaults, whose IKE group is MODP-1024 (DH group 2, breakable) "
              "with 3DES and SHA1 among the offers, and as initiator Azure offers no PFS, so ergw must not "
              "require PFS either (a tunnel that requires it comes up and dies at the first rekey)",
              "set a custom policy on the connection, e.g. az network vpn-connection ipsec-policy add "
              "--ike-encryption GCMAES256 --ike-integrity SHA384 --dh-group ECP384 --ipsec-encryption GCMAES256 "
              "--ipsec-integrity GCMAES256 --pfs-group ECP384 --sa-lifetime 27000 --sa-max-size 102400000");
  }
  if (c.dpd_timeout_seconds < 30) {
    d.warning(field(base, "dpdTimeoutSeconds"),
              std::to_string(c.dpd_timeout_seconds) + " s: Azure recommends 30-45 s; shorter timeouts make "
                                                      "tunnels appear to flap",
              "set dpdTimeoutSeconds to 45");
  }
  if (c.use_policy_based_traffic_selectors) {
    d.warning(field(base, "usePolicyBasedTrafficSelectors"),
              "policy-based traffic selectors: one CHILD SA per selector set, no route-based interface, and "
              "Azure proposes its selectors only when it initiates",
              "prefer route-based (any-to-any) selectors with BGP unless the peer must be policy-based");
    if (c.traffic_selector_policies.empty() && !bare &&
        (spec.local.prefixes.empty() || spec.gateway.vnet_prefixes.empty())) {
      d.error(field(base, "trafficSelectorPolicies"),
              "empty, and ergw needs local.prefixes and azureGateway.vnetPrefixes to build Azure's implicit "
              "selectors (every on-prem prefix with every VNet prefix)");
    }
  } else if (!c.traffic_selector_policies.empty()) {
    d.warning(field(base, "trafficSelectorPolicies"),
              "ignored: Azure applies them only with usePolicyBasedTrafficSelectors = true",
              "remove them, or set usePolicyBasedTrafficSelectors");
  }
  for (size_t i = 0; i < c.traffic_selector_policies.size(); ++i) {
    const auto& ts = c.traffic_selector_policies[i];
    if (ts.local_address_ranges.empty() || ts.remote_address_ranges.empty()) {
      d.error(field(base, "trafficSelectorPolicies") + "[" + std::to_string(i) + "]",
              "needs at least one localAddressRanges and one remoteAddressRanges prefix");
    }
  }
  if (c.has_nat_rules) {
    d.warning(field(base, "ingressNatRules"),
              "Azure NAT rules translate on Azure's side only; ergw does no NAT, so the on-prem and VNet prefixes "
              "ergw routes and advertises must be the translated (external mapping) ones",
              "list the external mappings in local.prefixes and azureGateway.vnetPrefixes");
    if (c.use_policy_based_traffic_selectors) {
      d.error(field(base, "usePolicyBasedTrafficSelectors"),
              "Azure does not support NAT rules on connections with policy-based traffic selectors; allowed: "
              "false while NAT rules are set");
    }
  }

  // BGP (azure.md §4).
  for (size_t i = 0; i < c.gateway_custom_bgp_ip_addresses.size(); ++i) {
    const auto& a = c.gateway_custom_bgp_ip_addresses[i].address;
    if (!in_azure_apipa_range(a)) {
      d.error(field(base, "gatewayCustomBgpIpAddresses") + "[" + std::to_string(i) + "].customBgpIpAddress",
              "\"" + a.to_string() + "\" is outside Azure's APIPA range for VPN; allowed: 169.254.21.0 - "
                                     "169.254.22.255");
    }
  }
  if (c.enable_bgp && !bare) {
    const auto& local = spec.local;
    if (!local.asn) {
      d.error(field(local.source_path, "asn"), "missing; BGP needs this appliance's AS number (private: "
                                               "64512-65514 or 65521-65534)");
    } else {
      if (auto why = reserved_asn_reason(*local.asn); !why.empty()) {
        d.error(field(local.source_path, "asn"), std::to_string(*local.asn) + " is " + why +
                                                     "; allowed: any other ASN, privately 64512-65514 or "
                                                     "65521-65534");
      }
      if (*local.asn == spec.gateway.asn) {
        d.error(field(local.source_path, "asn"), std::to_string(*local.asn) +
                                                     " equals the Azure gateway's ASN; eBGP with Azure needs "
                                                     "different ASNs");
      }
    }
    if (!local.bgp_peering_address) {
      d.error(field(local.source_path, "bgpPeeringAddress"),
              "missing; BGP needs this appliance's BGP address (a loopback, or an APIPA address in "
              "169.254.21.0 - 169.254.22.255)");
    } else {
      const auto& a = *local.bgp_peering_address;
      if (is_link_local_v4(a) && !in_azure_apipa_range(a)) {
        d.error(field(local.source_path, "bgpPeeringAddress"),
                "\"" + a.to_string() + "\" is an APIPA address outside Azure's range; allowed: 169.254.21.0 - "
                                       "169.254.22.255");
      }
      if (local.address && *local.address == a) {
        d.error(field(local.source_path, "bgpPeeringAddress"),
                "must differ from the appliance's IKE address (Azure's rule); use a loopback or APIPA address");
      }
      for (const auto& vnet : spec.gateway.vnet_prefixes) {
        if (vnet.contains(a)) {
          d.error(field(local.source_path, "bgpPeeringAddress"),
                  "\"" + a.to_string() + "\" lies inside the VNet prefix " + vnet.to_string());
        }
      }
    }
    if (c.gateway_custom_bgp_ip_addresses.empty() && spec.gateway.bgp_peering_addresses.empty()) {
      d.error(field(spec.gateway.source_path, "bgpSettings.bgpPeeringAddress"),
              "missing; BGP needs Azure's BGP address (the GatewaySubnet address Azure shows in "
              "bgpSettings.bgpPeeringAddress, or a custom APIPA address in gatewayCustomBgpIpAddresses)");
    }
    if (c.has_nat_rules && !c.gateway_custom_bgp_ip_addresses.empty()) {
      d.error(field(base, "gatewayCustomBgpIpAddresses"), "Azure does not support NAT rules with APIPA BGP "
                                                          "addresses; use the GatewaySubnet BGP address");
    }
  }

  if (!bare) {
    if (!spec.local.address) {
      d.error(field(spec.local.source_path, "address"), "missing; the appliance's IKE address toward Azure");
    }
    if (spec.gateway.tunnel_ip_addresses.empty()) {
      d.error(field(spec.gateway.source_path, "tunnelIpAddresses"),
              std::string("missing; the Azure gateway's ") + (c.use_local_azure_ip_address ? "private" : "public") +
                  " tunnel IP address(es)");
    }
    for (const auto& remote : spec.gateway.tunnel_ip_addresses) {
      if (spec.local.address && spec.local.address->family() != remote.family()) {
        d.error(field(spec.gateway.source_path, "tunnelIpAddresses"),
                remote.to_string() + " and the local address " + spec.local.address->to_string() +
                    " are of different IP families");
      }
    }
    if (spec.gateway.active_active && spec.gateway.tunnel_ip_addresses.size() < 2) {
      d.warning(field(spec.gateway.source_path, "activeActive"),
                "the gateway is active-active but only one tunnel address is known: Azure expects a tunnel to "
                "each instance, and the one tunnel goes down during Azure's maintenance",
                "list both instances' addresses in azureGateway.tunnelIpAddresses");
    }
    if (!c.enable_bgp && spec.gateway.vnet_prefixes.empty() && !c.use_policy_based_traffic_selectors) {
      d.warning(field(spec.gateway.source_path, "vnetPrefixes"),
                "no BGP and no VNet prefixes: nothing will be routed into the tunnel",
                "list the VNet's prefixes, or enable BGP on the connection");
    }
  }
}

void validate_configuration(const ApplianceConfig& config, Diagnostics& d) {
  std::map<std::string, size_t> names;
  std::map<uint32_t, size_t> interface_ids;
  for (size_t i = 0; i < config.connections.size(); ++i) {
    const auto& spec = config.connections[i];
    validate_connection(spec, d);
    if (auto [it, inserted] = names.emplace(spec.name, i); !inserted) {
      d.error(field(spec.source_path, "name"), "\"" + spec.name + "\" is also the name of connections[" +
                                                   std::to_string(it->second) + "]; names must be unique");
    }
    if (spec.interface_id) {
      if (auto [it, inserted] = interface_ids.emplace(*spec.interface_id, i); !inserted) {
        d.error(field(spec.source_path, "interfaceId"), std::to_string(*spec.interface_id) +
                                                            " is also used by connections[" +
                                                            std::to_string(it->second) + "]");
      }
    }
  }
  if (config.connections.empty()) d.error("connections", "empty; the configuration needs at least one connection");
}

}  // namespace ergw::policy
