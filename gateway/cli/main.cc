// ergw: the command-line interface of the ergw gateway.
#include <iostream>

#include <CLI/CLI.hpp>

#include "gateway/cli/azure_export_command.h"
#include "gateway/cli/config_commands.h"
#include "gateway/cli/diagnose_command.h"
#include "gateway/cli/lab_handover.h"
#include "common/build_info.h"
#include "gateway/cli/policy_commands.h"
#include "gateway/cli/status_command.h"

int main(int argc, char** argv) {
  if (int code = ergw::cli::hand_over_to_lab(argc, argv); code >= 0) return code;
  CLI::App app{"ergw: IKEv2/IPsec gateway for the Azure VPN Gateway"};
  app.set_version_flag("--version", "ergw " + ergw::build_description());
  app.require_subcommand(1);
  int exit_code = 0;
  ergw::cli::add_policy_commands(app, exit_code);
  ergw::cli::add_status_command(app, exit_code);
  ergw::cli::add_diagnose_command(app, exit_code);
  ergw::cli::add_azure_export_command(app, exit_code);
  ergw::cli::add_config_commands(app, exit_code);
  ergw::cli::add_apikey_commands(app, exit_code);
  ergw::cli::add_lab_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  return exit_code;
}
