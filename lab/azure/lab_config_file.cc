#include "lab/azure/lab_config_file.h"

#include <fstream>
#include <string>

namespace ergw::azure_lab {

std::filesystem::path write_lab_config(const std::filesystem::path& dir, std::string_view name,
                                       const nlohmann::json& config) {
  namespace fs = std::filesystem;
  const auto file = dir / (std::string(name) + ".json");
  std::ofstream(file) << config.dump(2);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  return file;
}

}  // namespace ergw::azure_lab
