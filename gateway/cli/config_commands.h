// `ergw config show | apply FILE [--confirm S] | confirm | diff [REV] |
// revisions | rollback REV [--confirm S]` and `ergw apikey create | list |
// revoke`: the configuration's revisions and the API keys, through ergwd's
// management API (the local socket by default, or --url and --key).
// --json prints the API's own answer.
#pragma once

#include <CLI/CLI.hpp>

namespace ergw::cli {

void add_config_commands(CLI::App& app, int& exit_code);
void add_apikey_commands(CLI::App& app, int& exit_code);

}  // namespace ergw::cli
