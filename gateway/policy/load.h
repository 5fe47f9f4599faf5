// Reads and validates a configuration file in one step: the configuration,
// or nothing when any error was found (every diagnostic in `diagnostics`).
// ergwd and `ergw policy check` both load through here.
#pragma once

#include <filesystem>
#include <optional>

#include "common/diagnostics.h"
#include "gateway/policy/azure_connection.h"
#include "gateway/policy/azure_rules.h"

namespace ergw::policy {

std::optional<ApplianceConfig> load_configuration(const std::filesystem::path& file, Diagnostics& diagnostics,
                                                  const ValidationOptions& options = {});

}  // namespace ergw::policy
