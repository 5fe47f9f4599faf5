#include "gateway/cli/policy_commands.h"

#include <iostream>
#include <memory>

#include "gateway/policy/compiler.h"
#include "gateway/policy/load.h"
#include "gateway/policy/swanctl_renderer.h"

namespace ergw::cli {
namespace {

struct PolicyOptions {
  std::string file;
  bool show_secrets = false;
  bool strict_expressroute = false;
  bool quiet = false;
};

// Reads and validates; prints every diagnostic to stderr. Returns the
// configuration only when it has no errors.
std::optional<policy::ApplianceConfig> load(const PolicyOptions& options) {
  Diagnostics diagnostics;
  auto config = policy::load_configuration(options.file, diagnostics,
                                          policy::ValidationOptions{.strict_expressroute = options.strict_expressroute});
  for (const auto& d : diagnostics.all()) {
    if (options.quiet && d.severity == Severity::note) continue;
    std::cerr << format_diagnostic(d) << "\n";
  }
  if (diagnostics.has_errors() || !config) {
    std::cerr << options.file << ": " << diagnostics.error_count() << " error(s), " << diagnostics.warning_count()
              << " warning(s); nothing applied\n";
    return std::nullopt;
  }
  return config;
}

}  // namespace

void add_policy_commands(CLI::App& app, int& exit_code) {
  auto* policy = app.add_subcommand("policy", "Validate and compile Azure connections");
  policy->require_subcommand(1);
  auto options = std::make_shared<PolicyOptions>();

  auto* check = policy->add_subcommand(
      "check", "Validate FILE (an ergw configuration, or a connection object as Azure prints it)");
  check->add_option("FILE", options->file, "configuration or Azure connection JSON")->required();
  check->add_flag("--quiet,-q", options->quiet, "hide notes");
  check->add_flag("--strict-expressroute", options->strict_expressroute,
                  "refuse BGP exports Azure would route over ExpressRoute, as ergwd --strict-expressroute does");
  check->callback([options, &exit_code] {
    auto config = load(*options);
    if (!config) {
      exit_code = 2;
      return;
    }
    std::cout << options->file << ": valid, " << config->connections.size() << " connection(s)\n";
    exit_code = 0;
  });

  auto* compile = policy->add_subcommand("compile", "Print the swanctl.conf that FILE compiles to");
  compile->add_option("FILE", options->file, "configuration or Azure connection JSON")->required();
  compile->add_flag("--show-secrets", options->show_secrets, "print PSKs instead of <redacted>");
  compile->add_flag("--quiet,-q", options->quiet, "hide notes");
  compile->add_flag("--strict-expressroute", options->strict_expressroute,
                    "refuse BGP exports Azure would route over ExpressRoute, as ergwd --strict-expressroute does");
  compile->callback([options, &exit_code] {
    auto config = load(*options);
    if (!config) {
      exit_code = 2;
      return;
    }
    const auto compiled = policy::compile(*config);
    std::cout << policy::render_swanctl_conf(compiled, options->show_secrets ? policy::SecretDisplay::revealed
                                                                             : policy::SecretDisplay::redacted);
    std::cout << "\n# strongswan.conf settings these connections need:\n";
    std::string settings = policy::render_charon_settings(compiled.charon);
    // Comment the fragment out: it belongs in strongswan.conf, not swanctl.conf.
    std::string line;
    for (char c : settings) {
      if (c == '\n') {
        std::cout << "# " << line << "\n";
        line.clear();
      } else {
        line += c;
      }
    }
    exit_code = 0;
  });
}

}  // namespace ergw::cli
