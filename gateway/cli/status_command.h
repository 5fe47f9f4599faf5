// `ergw status`: asks ergwd over its control socket and prints a table (or
// the JSON as it came with --json).
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw::cli {

void add_status_command(CLI::App& app, int& exit_code);

// One request/reply exchange with ergwd's control socket.
Result<nlohmann::json> ask_ergwd(const std::string& socket_path, const nlohmann::json& request);

// The human table.
std::string format_status(const nlohmann::json& status);

}  // namespace ergw::cli
