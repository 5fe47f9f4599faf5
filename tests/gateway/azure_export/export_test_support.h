// Helpers for the export tests: the golden configurations of the policy tests
// (the tunnel matrix's policies), loaded and validated, and the round trip of
// an exported ARM template back into an ergw configuration.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gateway/azure_export/azure_side.h"
#include "gateway/azure_export/plan.h"
#include "gateway/policy/azure_connection.h"
#include "tests/gateway/policy/policy_test_support.h"

namespace ergw::azure_export::testing {

// The golden configurations' names (tests/gateway/policy/golden/*.json).
std::vector<std::string> golden_names();
nlohmann::json golden(const std::string& name);

using policy::testing::has;
using policy::testing::Loaded;
// Reads and validates a configuration document, as `ergw policy check` does:
// the configuration only when it has no errors.
Loaded load(const nlohmann::json& document);

// Plans the Azure side of a document that must load without errors.
AzureSide plan(const nlohmann::json& document, const ExportOptions& options = {});

// ergw's configuration rebuilt from an exported ARM template: every
// connection's "azure" object and "localNetworkGateway" become the template's
// resources as they are; what Azure does not hold (the Azure gateway's
// addresses, the XFRM interface id, the ExpressRoute prefixes, and with BGP
// the prefixes ergw advertises) stays from `original`.
nlohmann::json configuration_from_template(const nlohmann::json& original, const nlohmann::json& arm_template);

}  // namespace ergw::azure_export::testing
