// `ergw status`: asks ergwd's management API (GET /v1/status) and prints a
// table (or the JSON as it came with --json).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw::cli {

void add_status_command(CLI::App& app, int& exit_code);

// One request/reply exchange with ergwd's control socket.
Result<nlohmann::json> ask_ergwd(const std::string& socket_path, const nlohmann::json& request);

// The human table.
std::string format_status(const nlohmann::json& status);

// A connection's CHILD SAs (one entry of the status's "connections"), those of
// the IKE SA shown first and of its duplicates: after both sides dialled at
// once, packets may enter by one IKE SA and leave by another.
std::vector<nlohmann::json> all_children(const nlohmann::json& connection);

}  // namespace ergw::cli
