// The Azure side as a Bicep file (`az deployment group create --template-file
// azure-side.bicep`): the same resources and property values as the ARM
// template, in Bicep's syntax. The existing VPN gateways are `existing`
// resources named by parameters.
#pragma once

#include <string>

#include "gateway/azure_export/azure_side.h"
#include "gateway/azure_export/template_value.h"

namespace ergw::azure_export {

std::string bicep_template(const AzureSide& side, const std::string& source);

// A Bicep string literal: single quotes; '\', '\'' and "${" escaped.
std::string bicep_string(const std::string& text);

}  // namespace ergw::azure_export
