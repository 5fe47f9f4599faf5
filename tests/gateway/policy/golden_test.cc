// Golden outputs: each golden/*.json compiles to exactly golden/*.swanctl.conf
// (ergw's side; the simulated Azure gateway's goldens are the lab's, in
// tests/lab/azure/golden). After a deliberate change, regenerate with
// ERGW_UPDATE_GOLDEN=1 and review the diff.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/policy/compiler.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/swanctl_renderer.h"
#include "gateway/policy/validator.h"

namespace ergw::policy {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void compare_or_update(const fs::path& expected_file, const std::string& actual) {
  if (std::getenv("ERGW_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected_file) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(expected_file)) << expected_file << " is missing; run with ERGW_UPDATE_GOLDEN=1";
  EXPECT_EQ(read_file(expected_file), actual) << expected_file;
}

TEST(Golden, RepresentativePoliciesCompileToTheirGoldenSwanctlConf) {
  const fs::path dir = fs::path(ERGW_SOURCE_DIR) / "tests/gateway/policy/golden";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    Diagnostics d;
    auto config = read_configuration_file(entry.path(), d);
    ASSERT_TRUE(config);
    validate_configuration(*config, d);
    ASSERT_FALSE(d.has_errors()) << d.format();
    const auto stem = entry.path().stem().string();
    compare_or_update(dir / (stem + ".swanctl.conf"), render_swanctl_conf(compile(*config), SecretDisplay::redacted));
    ++count;
  }
  EXPECT_GE(count, 7);
}

}  // namespace
}  // namespace ergw::policy
