// Helpers for the policy tests: build connections from JSON text and look for
// diagnostics by path and text.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "gateway/policy/azure_connection.h"
#include "common/diagnostics.h"

namespace ergw::policy::testing {

struct Loaded {
  std::optional<ApplianceConfig> config;
  Diagnostics diagnostics;
};

// Reads and validates a configuration document (ergw file or bare object).
Loaded load(const nlohmann::json& document);

// A valid ergw configuration with one route-based connection and a custom
// policy; tests mutate it.
nlohmann::json valid_config();
// Its policy, as a JSON object.
nlohmann::json strong_policy();
// valid_config() with `policy` as the connection's only IPsec policy.
nlohmann::json with_policy(nlohmann::json policy);

// True when a diagnostic of that severity has a path ending in `path_suffix`
// and a message containing `text`.
bool has(const Diagnostics& d, Severity severity, const std::string& path_suffix, const std::string& text = "");
std::string dump(const Diagnostics& d);

}  // namespace ergw::policy::testing
