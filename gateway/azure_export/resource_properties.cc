#include "gateway/azure_export/resource_properties.h"

namespace ergw::azure_export {
namespace {

TemplateValue::Array prefix_list(const std::vector<IpPrefix>& prefixes) {
  TemplateValue::Array out;
  for (const auto& p : prefixes) out.emplace_back(p.to_string());
  return out;
}

template <typename E>
TemplateValue enum_value(E value) {
  return std::string(policy::enum_name(value));
}

}  // namespace

TemplateValue local_network_gateway_properties(const LocalNetworkGateway& gateway) {
  TemplateValue::Object properties;
  properties.emplace_back("gatewayIpAddress", gateway.gateway_ip_address.to_string());
  if (!gateway.address_prefixes.empty()) {
    properties.emplace_back("localNetworkAddressSpace",
                            TemplateValue::Object{{"addressPrefixes", prefix_list(gateway.address_prefixes)}});
  }
  if (gateway.asn || gateway.bgp_peering_address) {
    TemplateValue::Object bgp;
    if (gateway.asn) bgp.emplace_back("asn", static_cast<int64_t>(*gateway.asn));
    if (gateway.bgp_peering_address) bgp.emplace_back("bgpPeeringAddress", gateway.bgp_peering_address->to_string());
    properties.emplace_back("bgpSettings", std::move(bgp));
  }
  return properties;
}

TemplateValue ipsec_policy_properties(const policy::IpsecPolicy& p) {
  return TemplateValue::Object{
      {"saLifeTimeSeconds", p.sa_lifetime_seconds},
      {"saDataSizeKilobytes", p.sa_data_size_kilobytes},
      {"ipsecEncryption", enum_value(p.ipsec_encryption)},
      {"ipsecIntegrity", enum_value(p.ipsec_integrity)},
      {"ikeEncryption", enum_value(p.ike_encryption)},
      {"ikeIntegrity", enum_value(p.ike_integrity)},
      {"dhGroup", enum_value(p.dh_group)},
      {"pfsGroup", enum_value(p.pfs_group)},
  };
}

TemplateValue connection_properties(const Connection& c, bool include_shared_key) {
  using Kind = TemplateReference::Kind;
  TemplateValue::Object properties;
  properties.emplace_back("connectionType", enum_value(policy::ConnectionType::IPsec));
  properties.emplace_back("connectionProtocol", enum_value(c.connection_protocol));
  // Bicep's type for these references requires `properties`; an empty object
  // satisfies it and ARM ignores it (only the id is used).
  properties.emplace_back(
      "virtualNetworkGateway1",
      TemplateValue::Object{{"id", TemplateReference{Kind::vpn_gateway_id, c.vpn_gateway_parameter, {}}},
                            {"properties", TemplateValue::Object{}}});
  properties.emplace_back(
      "localNetworkGateway2",
      TemplateValue::Object{{"id", TemplateReference{Kind::local_network_gateway_id, c.local_network_gateway, {}}},
                            {"properties", TemplateValue::Object{}}});
  if (include_shared_key) {
    properties.emplace_back("sharedKey", c.shared_key.reveal());
  } else {
    properties.emplace_back("sharedKey", TemplateReference{Kind::parameter, c.shared_key_parameter, {}});
  }
  properties.emplace_back("enableBgp", c.enable_bgp);
  properties.emplace_back("usePolicyBasedTrafficSelectors", c.use_policy_based_traffic_selectors);
  if (!c.traffic_selector_policies.empty()) {
    TemplateValue::Array selectors;
    for (const auto& ts : c.traffic_selector_policies) {
      selectors.emplace_back(TemplateValue::Object{{"localAddressRanges", prefix_list(ts.local_address_ranges)},
                                                   {"remoteAddressRanges", prefix_list(ts.remote_address_ranges)}});
    }
    properties.emplace_back("trafficSelectorPolicies", std::move(selectors));
  }
  if (c.ipsec_policy) {
    properties.emplace_back("ipsecPolicies", TemplateValue::Array{ipsec_policy_properties(*c.ipsec_policy)});
  }
  properties.emplace_back("dpdTimeoutSeconds", c.dpd_timeout_seconds);
  properties.emplace_back("connectionMode", enum_value(c.connection_mode));
  properties.emplace_back("useLocalAzureIpAddress", c.use_local_azure_ip_address);
  if (!c.gateway_custom_bgp_ip_addresses.empty()) {
    TemplateValue::Array custom;
    for (const auto& a : c.gateway_custom_bgp_ip_addresses) {
      TemplateValue id = a.ip_configuration_is_id()
                             ? TemplateValue(a.ip_configuration)
                             : TemplateValue(TemplateReference{Kind::vpn_gateway_ip_configuration_id,
                                                               c.vpn_gateway_parameter, a.ip_configuration});
      custom.emplace_back(
          TemplateValue::Object{{"ipConfigurationId", std::move(id)}, {"customBgpIpAddress", a.address.to_string()}});
    }
    properties.emplace_back("gatewayCustomBgpIpAddresses", std::move(custom));
  }
  return properties;
}

}  // namespace ergw::azure_export
