#include "common/build_info.h"

// Set for this file alone by common/CMakeLists.txt, so that a new commit
// recompiles one file.
#ifndef ERGW_VERSION
#define ERGW_VERSION "unknown"
#endif
#ifndef ERGW_COMMIT
#define ERGW_COMMIT "unknown"
#endif

namespace ergw {

std::string_view build_version() { return ERGW_VERSION; }
std::string_view build_commit() { return ERGW_COMMIT; }
std::string build_description() {
  return std::string(build_version()) + " (commit " + std::string(build_commit()) + ")";
}

}  // namespace ergw
