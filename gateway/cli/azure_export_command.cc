#include "gateway/cli/azure_export_command.h"

#include <iostream>
#include <memory>

#include "gateway/azure_export/arm_template.h"
#include "gateway/azure_export/az_script.h"
#include "gateway/azure_export/bicep_template.h"
#include "gateway/azure_export/plan.h"
#include "gateway/policy/load.h"

namespace ergw::cli {
namespace {

struct ExportCommandOptions {
  std::string file;
  std::string format = "az";
  bool json = false;
  bool quiet = false;
  std::vector<std::string> vnet_gateways;  // NAME, or CONNECTION=NAME
  azure_export::ExportOptions export_options;
};

void print(const azure_export::Diagnostics& diagnostics, bool quiet) {
  for (const auto& d : diagnostics.all()) {
    if (quiet && d.severity == Severity::note) continue;
    std::cerr << format_diagnostic(d) << "\n";
  }
}

// --vnet-gateway NAME applies to every connection; CONNECTION=NAME to one.
bool read_vnet_gateways(ExportCommandOptions& options, azure_export::Diagnostics& diagnostics) {
  for (const auto& value : options.vnet_gateways) {
    const auto eq = value.find('=');
    if (eq == std::string::npos) {
      if (!options.export_options.vpn_gateway.empty()) {
        diagnostics.error("--vnet-gateway", "given twice without a connection; use CONNECTION=NAME for the others");
      }
      options.export_options.vpn_gateway = value;
    } else if (eq == 0 || eq + 1 == value.size()) {
      diagnostics.error("--vnet-gateway", "\"" + value + "\": expected NAME or CONNECTION=NAME");
    } else {
      options.export_options.vpn_gateway_by_connection[value.substr(0, eq)] = value.substr(eq + 1);
    }
  }
  return !diagnostics.has_errors();
}

int run(ExportCommandOptions& options) {
  azure_export::Diagnostics diagnostics;
  if (options.json && options.format == "bicep") {
    diagnostics.error("--json", "Bicep is not JSON; allowed with --format az (the commands as JSON) or arm");
  }
  read_vnet_gateways(options, diagnostics);
  if (diagnostics.has_errors()) {
    print(diagnostics, options.quiet);
    return 2;
  }
  auto config = policy::load_configuration(options.file, diagnostics);
  std::optional<azure_export::AzureSide> side;
  if (config) side = azure_export::plan_azure_side(*config, options.export_options, diagnostics);
  print(diagnostics, options.quiet);
  if (!side) {
    std::cerr << options.file << ": " << diagnostics.error_count() << " error(s), " << diagnostics.warning_count()
              << " warning(s); nothing exported\n";
    return 2;
  }
  const std::string source = options.file;
  if (options.format == "arm") {
    std::cout << azure_export::arm_template(*side, source).dump(2) << "\n";
  } else if (options.format == "bicep") {
    std::cout << azure_export::bicep_template(*side, source);
  } else {
    const auto script = azure_export::az_script(*side);
    if (options.json) {
      std::cout << azure_export::az_script_json(script).dump(2) << "\n";
    } else {
      std::cout << azure_export::render_az_script(script, source);
    }
  }
  return 0;
}

}  // namespace

void add_azure_export_command(CLI::App& app, int& exit_code) {
  auto* azure = app.add_subcommand("azure", "The Azure side of ergw's configuration");
  azure->require_subcommand(1);
  auto options = std::make_shared<ExportCommandOptions>();
  auto* exp = azure->add_subcommand(
      "export", "Print what must be configured on Azure for FILE: az commands, an ARM template or Bicep");
  exp->add_option("FILE", options->file, "ergw configuration")->required();
  exp->add_option("--format,-f", options->format, "az (a bash script of az commands), arm or bicep")
      ->check(CLI::IsMember({"az", "arm", "bicep"}));
  exp->add_flag("--json", options->json, "with az: the commands as JSON (argv arrays); arm is JSON already");
  exp->add_option("--resource-group,-g", options->export_options.resource_group,
                  "the resource group of the VPN gateway (default: the script asks for RESOURCE_GROUP)");
  exp->add_option("--vnet-gateway", options->vnet_gateways,
                  "the existing VPN gateway: NAME for every connection, CONNECTION=NAME for one (repeatable)");
  exp->add_flag("--include-shared-key", options->export_options.include_shared_keys,
                "put each PSK where Azure takes it (--shared-key, sharedKey) instead of a parameter; the output "
                "then holds secrets");
  exp->add_flag("--quiet,-q", options->quiet, "hide notes");
  exp->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace ergw::cli
