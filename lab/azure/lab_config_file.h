// A lab test's configuration written where the lab's daemons read it: mode
// 0600, since it holds the shared key, as the appliance keeps it.
#pragma once

#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ergw::azure_lab {

// Writes `config` to dir/<name>.json (owner read/write only) and returns the path.
std::filesystem::path write_lab_config(const std::filesystem::path& dir, std::string_view name,
                                       const nlohmann::json& config);

}  // namespace ergw::azure_lab
