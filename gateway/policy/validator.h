// Validation of an Azure connection as Azure validates it (enums, ranges,
// combination rules from ../shared/design/azure.md), plus warnings with a fix
// for what Azure accepts but a careful engineer would not. Every finding is
// collected; nothing stops at the first error.
#pragma once

#include "gateway/policy/azure_connection.h"
#include "gateway/policy/diagnostics.h"

namespace ergw::policy {

void validate_connection(const ConnectionSpec& spec, Diagnostics& diagnostics);
void validate_configuration(const ApplianceConfig& config, Diagnostics& diagnostics);

// Azure's and IANA's reserved ASNs that an on-prem device may not use
// (azure.md §4); empty when `asn` is usable, else the reason.
std::string reserved_asn_reason(uint32_t asn);

// 169.254.21.0 - 169.254.22.255: Azure's APIPA range for VPN BGP (azure.md §4).
bool in_azure_apipa_range(const IpAddress& address);
bool is_link_local_v4(const IpAddress& address);

// Azure's rule for sharedKey: printable ASCII except space, '-' and '~'
// (azure.md §2.6). Never names the offending character's value.
bool is_valid_shared_key(const std::string& key);

}  // namespace ergw::policy
