#include "gateway/policy/load.h"

#include "gateway/policy/connection_reader.h"
#include "gateway/policy/validator.h"

namespace ergw::policy {

std::optional<ApplianceConfig> load_configuration(const std::filesystem::path& file, Diagnostics& diagnostics,
                                                  const ValidationOptions& options) {
  auto config = read_configuration_file(file, diagnostics);
  if (config) validate_configuration(*config, diagnostics, options);
  if (!config || diagnostics.has_errors()) return std::nullopt;
  return config;
}

}  // namespace ergw::policy
