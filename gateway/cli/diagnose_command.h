// `ergw diagnose [CONNECTION] [--json]`: asks ergwd to walk Azure's
// site-to-site troubleshooting path on the live appliance (GET /v1/diagnose,
// docs/diagnose.md) and prints each finding with its evidence and fix. Exit
// code 0 when nothing failed, 1 when a check failed (or ergwd could not be
// asked).
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace ergw::cli {

void add_diagnose_command(CLI::App& app, int& exit_code);

// The human listing of GET /v1/diagnose's answer.
std::string format_diagnosis(const nlohmann::json& diagnosis);

}  // namespace ergw::cli
