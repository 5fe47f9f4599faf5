// Shared pieces of the lab tests: why a test cannot run here, and a quiet
// progress sink that still shows the lab's lines in the test log.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/lab_config.h"

namespace ergw::lab::testing {

// A reason to skip when the machine cannot host a lab (not root, no netns);
// with `need_charon`, also when charon or swanctl are missing.
std::optional<std::string> lab_unavailable(bool need_charon = false);

// Prints every progress line prefixed with "  | ".
ProgressSink test_progress();

// The lab's namespaces that exist right now.
std::vector<std::string> existing_namespaces(const std::string& labid);

}  // namespace ergw::lab::testing
