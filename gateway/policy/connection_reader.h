// Reading ergw's configuration and Azure objects as Azure prints them.
//
// Accepted shapes for a connection (field names as in the ARM spec):
//   - ARM: {"name": ..., "properties": {"connectionType": ..., ...}}
//     (az rest, ARM templates, the portal's JSON view)
//   - az CLI: the same fields flattened ({"connectionType": ..., ...}),
//     as `az network vpn-connection show` prints them.
// Read-only fields (etag, provisioningState, ingressBytesTransferred, ...) are
// ignored; unknown fields are warned about (most are typos).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/policy/azure_connection.h"
#include "common/diagnostics.h"

namespace ergw::policy {

// Reads one Azure connection object (either shape) found at `path`.
AzureConnection read_azure_connection(const nlohmann::json& object, const std::string& path,
                                      Diagnostics& diagnostics);

// Reads an ipsecPolicies[] entry: every field that is given and valid, the
// others empty (every problem reported). nullopt only when it is not an object.
std::optional<IpsecPolicyInput> read_ipsec_policy(const nlohmann::json& object, const std::string& path,
                                             Diagnostics& diagnostics);

// The `az ... --ipsec-policy` spelling: "key=value" pairs separated by spaces or
// commas, or the flags of `az network vpn-connection ipsec-policy add`
// ("--dh-group DHGroup14 --sa-lifetime 27000 ..."). Keys are az flag names
// (sa-lifetime, sa-max-size, dh-group, pfs-group, ike-encryption, ike-integrity,
// ipsec-encryption, ipsec-integrity) or ARM property names (saLifeTimeSeconds ...).
std::optional<IpsecPolicyInput> read_ipsec_policy_args(std::string_view text, const std::string& path,
                                                  Diagnostics& diagnostics);

// Reads ergw's configuration file (see docs/configuration.md), or a bare Azure
// connection object (either shape), which becomes a one-connection
// configuration whose addresses are unknown. Relative file references
// (sharedKeyFile) resolve against `base_dir`.
std::optional<ApplianceConfig> read_configuration(const nlohmann::json& document,
                                                  const std::filesystem::path& base_dir,
                                                  Diagnostics& diagnostics);

// Reads and parses a file: JSON syntax errors become a diagnostic with the line.
std::optional<ApplianceConfig> read_configuration_file(const std::filesystem::path& file,
                                                       Diagnostics& diagnostics);

// True when the document looks like a bare Azure connection object rather than
// an ergw configuration file.
bool is_bare_connection_object(const nlohmann::json& document);

}  // namespace ergw::policy
