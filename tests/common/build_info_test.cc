// What `ergw --version`, `ergwd --version` and the ergw_build_info metric say.
#include "common/build_info.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace ergw {
namespace {

TEST(BuildInfo, TheProjectsVersionAndTheCommitItWasConfiguredFrom) {
  EXPECT_EQ(build_version(), ERGW_EXPECTED_VERSION);
  const auto commit = build_commit();
  const bool hex = commit.size() == 12 && std::all_of(commit.begin(), commit.end(), [](char c) {
                     return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                   });
  EXPECT_TRUE(hex || commit == "unknown") << commit;
  EXPECT_EQ(build_description(), std::string(ERGW_EXPECTED_VERSION) + " (commit " + std::string(commit) + ")");
}

}  // namespace
}  // namespace ergw
