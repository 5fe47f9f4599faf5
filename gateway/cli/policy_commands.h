// `ergw policy check|compile FILE`: validate an ergw configuration or a bare
// Azure connection object, and show the strongSwan configuration it becomes.
#pragma once

#include <CLI/CLI.hpp>

namespace ergw::cli {

// Exit codes: 0 valid (warnings on stderr), 2 invalid (every error on stderr),
// 1 the command itself failed.
void add_policy_commands(CLI::App& app, int& exit_code);

}  // namespace ergw::cli
