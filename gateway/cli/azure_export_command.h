// `ergw azure export FILE`: what must be configured on Azure for ergw's
// configuration, as az commands, an ARM template or Bicep (docs/azure-export.md).
#pragma once

#include <CLI/CLI.hpp>

namespace ergw::cli {

// Exit codes: 0 printed; 2 the configuration is invalid or cannot be
// expressed on Azure (every error on stderr, nothing on stdout); 1 the
// command itself failed.
void add_azure_export_command(CLI::App& app, int& exit_code);

}  // namespace ergw::cli
