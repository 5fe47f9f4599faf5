#include "gateway/policy/azure_connection.h"

namespace ergw::policy {

std::optional<IpsecPolicy> IpsecPolicyInput::complete() const {
  if (!sa_lifetime_seconds || !sa_data_size_kilobytes || !ipsec_encryption || !ipsec_integrity || !ike_encryption ||
      !ike_integrity || !dh_group || !pfs_group) {
    return std::nullopt;
  }
  IpsecPolicy p;
  p.sa_lifetime_seconds = *sa_lifetime_seconds;
  p.sa_data_size_kilobytes = *sa_data_size_kilobytes;
  p.ipsec_encryption = *ipsec_encryption;
  p.ipsec_integrity = *ipsec_integrity;
  p.ike_encryption = *ike_encryption;
  p.ike_integrity = *ike_integrity;
  p.dh_group = *dh_group;
  p.pfs_group = *pfs_group;
  return p;
}

std::optional<IpAddress> azure_bgp_address(const ConnectionSpec& spec) {
  if (!spec.azure.gateway_custom_bgp_ip_addresses.empty()) return spec.azure.gateway_custom_bgp_ip_addresses.front().address;
  if (!spec.gateway.bgp_peering_addresses.empty()) return spec.gateway.bgp_peering_addresses.front();
  return std::nullopt;
}

std::optional<IpAddress> azure_bgp_address_of_instance(const ConnectionSpec& spec, size_t instance) {
  const auto& custom = spec.azure.gateway_custom_bgp_ip_addresses;
  if (!custom.empty()) {
    if (instance < custom.size()) return custom[instance].address;
    return std::nullopt;
  }
  const auto& gateway = spec.gateway.bgp_peering_addresses;
  if (instance < gateway.size()) return gateway[instance];
  return std::nullopt;
}

}  // namespace ergw::policy
