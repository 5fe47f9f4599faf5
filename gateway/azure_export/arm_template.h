// The Azure side as an ARM deployment template (JSON), deployed into the
// resource group with `az deployment group create --template-file`. The
// existing VPN gateway is a parameter, never a resource of the template:
// deploying it would redeploy the gateway.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "gateway/azure_export/azure_side.h"
#include "gateway/azure_export/template_value.h"

namespace ergw::azure_export {

// The template. `source` names what it was exported from (for its metadata).
nlohmann::ordered_json arm_template(const AzureSide& side, const std::string& source);

// ARM's expression for a reference, e.g. "[parameters('sharedKey_hub')]".
std::string arm_expression(const TemplateReference& reference);

// A literal or an expression, as ARM takes it.
nlohmann::ordered_json arm_value(const TemplateValue& value);

}  // namespace ergw::azure_export
