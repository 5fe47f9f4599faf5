// What was built: the project's version and the git commit the build was
// configured from (`--version` of ergw and ergwd, the ergw_build_info metric,
// GET /v1/status).
#pragma once

#include <string>
#include <string_view>

namespace ergw {

std::string_view build_version();
// 12 hex digits, or "unknown" when the tree was not a git checkout.
std::string_view build_commit();
// "0.1.0 (commit 0123456789ab)".
std::string build_description();

}  // namespace ergw
