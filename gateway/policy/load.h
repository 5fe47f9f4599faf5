// Reads and validates a configuration file in one step: the configuration,
// or nothing when any error was found (every diagnostic in `diagnostics`).
#pragma once

#include <filesystem>
#include <optional>

#include "gateway/policy/azure_connection.h"
#include "gateway/policy/diagnostics.h"

namespace ergw::policy {

std::optional<ApplianceConfig> load_configuration(const std::filesystem::path& file, Diagnostics& diagnostics);

}  // namespace ergw::policy
