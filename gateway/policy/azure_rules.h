// The rule book's parts: Azure's rules as predicates, and the checks that
// validate_connection() runs as its steps. Every Azure rule ergw enforces is
// written once, here or in the reader (types, enum spellings, ranges); the
// facts behind them are in docs/azure-facts.md. Only validator.cc and the
// tests use this header; everyone else calls validate_configuration().
#pragma once

#include <cstdint>
#include <string>

#include "common/diagnostics.h"
#include "common/ip_prefix.h"
#include "gateway/policy/azure_connection.h"

namespace ergw::policy {

struct ValidationOptions {
  // Refuse, instead of warning about, BGP exports that Azure would route over
  // ExpressRoute, unencrypted (ergwd --strict-expressroute).
  bool strict_expressroute = false;
};

// Why an on-prem device may not use `asn` (reserved by Azure or IANA, with
// the reason); empty when it may.
std::string reserved_asn_reason(uint32_t asn);
// Why `asn` can never be a BGP speaker's ASN (0, AS_TRANS, the last 32-bit
// ASN); empty when it can.
std::string impossible_asn_reason(uint32_t asn);

// 169.254.0.0/16, and Azure's APIPA range for VPN BGP within it.
bool is_link_local_v4(const IpAddress& address);
bool in_azure_apipa_range(const IpAddress& address);
std::string azure_apipa_range_text();  // "169.254.21.0 - 169.254.22.255"

// Azure's rule for sharedKey: printable ASCII except space, '-' and '~'.
// Never names the offending character's value.
bool is_valid_shared_key(const std::string& key);

// "base.name", or "name" when base is empty.
std::string field_path(const std::string& base, const std::string& name);
std::string index_path(const std::string& base, size_t index);  // "base[index]"

// The steps of validate_connection() that live in their own files.
void check_ipsec_policy(const IpsecPolicyInput& policy, const std::string& path, Diagnostics& diagnostics);
void check_bgp(const ConnectionSpec& spec, const ValidationOptions& options, Diagnostics& diagnostics);

}  // namespace ergw::policy
