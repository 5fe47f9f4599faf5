// The Azure side as az CLI commands: a bash script (set -euo pipefail) that
// checks the existing VPN gateway, then creates each local network gateway
// and connection and sets what `az network vpn-connection create` has no flag
// for (connectionMode, dpdTimeoutSeconds, useLocalAzureIpAddress, traffic
// selectors, custom APIPA BGP addresses) with the generic `update --set`, and
// the custom policy with `az network vpn-connection ipsec-policy add`. The
// same commands as JSON (argv arrays) for automation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/azure_export/azure_side.h"

namespace ergw::azure_export {

// One shell word, built from literal text and variable references ("$X").
struct ShellWordPart {
  std::string text;
  bool variable = false;  // text is a variable name
};
using ShellWord = std::vector<ShellWordPart>;

struct AzCommand {
  std::string connection;    // the Azure connection it belongs to; empty: the whole export
  std::string comment;       // what it does, printed above it
  std::string capture_into;  // VAR=$(command) when not empty
  std::vector<ShellWord> argv;
};

// A variable the script reads from its environment or sets itself.
struct ScriptVariable {
  std::string name;
  std::string default_value;  // empty: the caller must set it (the script stops otherwise)
  bool secret = false;        // a PSK: never given a default, never echoed
  std::string description;
};

struct GatewayCheck {
  std::string gateway_variable;
  GatewayRequirement requirement;
};

struct AzScript {
  std::vector<ScriptVariable> variables;
  std::vector<GatewayCheck> checks;
  std::vector<AzCommand> commands;
};

AzScript az_script(const AzureSide& side);

// The script as bash. `source` names what it was exported from.
std::string render_az_script(const AzScript& script, const std::string& source);
// The same as JSON: {"variables": [...], "gatewayChecks": [...], "commands":
// [{"connection", "comment", "captureInto", "argv": [...]}]}; a word that
// holds a variable carries it as ${NAME}.
nlohmann::ordered_json az_script_json(const AzScript& script);

// A shell word for `text`: bare when only safe characters; "text" when it
// has a ' but nothing that double quotes expand; else 'text' with every '
// written as '\''.
std::string shell_quote(const std::string& text);
// A template parameter name as a shell variable: sharedKey_hub -> SHARED_KEY_HUB.
std::string shell_variable_for(const std::string& parameter);

}  // namespace ergw::azure_export
