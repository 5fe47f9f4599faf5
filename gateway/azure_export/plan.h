// From ergw's validated configuration to the Azure side (azure_side.h): one
// local network gateway and one connection per ergw connection, and what the
// existing VPN gateway must be. What Azure cannot express is an error naming
// the field of ergw's configuration; nothing is planned then.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/diagnostics.h"
#include "gateway/azure_export/azure_side.h"
#include "gateway/policy/azure_connection.h"

namespace ergw::azure_export {

using ergw::Diagnostics;

struct ExportOptions {
  std::string resource_group;  // empty: the output asks for it
  // The existing VPN gateway of every connection, or of one connection by
  // its ergw name; a connection with neither gets a parameter to fill in.
  std::string vpn_gateway;
  std::map<std::string, std::string> vpn_gateway_by_connection;
  // Put each connection's PSK where Azure takes it. Off: a parameter the
  // engineer supplies, and the PSK is never printed.
  bool include_shared_keys = false;
};

// Azure's rule for names of connections, local network gateways and VPN
// gateways (docs/azure-facts.md, "Resource names"): 1-80 letters, digits,
// '_', '.', '-', starting with a letter or digit, ending with a letter, digit
// or '_'. Empty when `name` is valid, else why not.
std::string azure_resource_name_problem(const std::string& name);

// Precondition: `config` passed validation (policy::load_configuration).
std::optional<AzureSide> plan_azure_side(const policy::ApplianceConfig& config, const ExportOptions& options,
                                         Diagnostics& diagnostics);

}  // namespace ergw::azure_export
