#include "gateway/cli/diagnose_command.h"

#include <iostream>
#include <memory>
#include <sstream>

#include "gateway/cli/api_client.h"

namespace ergw::cli {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string format_diagnosis(const nlohmann::json& diagnosis) {
  std::ostringstream out;
  std::string current = "\x01";
  for (const auto& f : diagnosis.value("findings", nlohmann::json::array())) {
    const auto connection = f.value("connection", "");
    if (connection != current) {
      out << (current == "\x01" ? "" : "\n") << (connection.empty() ? std::string("appliance") : connection) << "\n";
      current = connection;
    }
    char lead[64];
    std::snprintf(lead, sizeof(lead), "  %-8s %-17s ", upper(f.value("result", "")).c_str(),
                  f.value("check", "").c_str());
    out << lead << f.value("evidence", "") << "\n";
    if (f.contains("fix") && f.value("result", "") != "ok") out << "           fix: " << f.value("fix", "") << "\n";
  }
  const auto summary = diagnosis.value("summary", nlohmann::json::object());
  out << "\n" << summary.value("fail", 0) << " failed, " << summary.value("warning", 0) << " warnings, "
      << summary.value("ok", 0) << " ok, " << summary.value("skipped", 0) << " skipped\n";
  return out.str();
}

void add_diagnose_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "diagnose", "Walk Azure's site-to-site troubleshooting path on this appliance: each finding with evidence and fix");
  auto target = std::make_shared<ApiTarget>();
  auto json = std::make_shared<bool>(false);
  auto connection = std::make_shared<std::string>();
  add_api_options(*command, target);
  command->add_option("connection", *connection, "one connection (default: all)");
  command->add_flag("--json", *json, "print ergwd's JSON answer");
  command->callback([target, json, connection, &exit_code] {
    const std::string path =
        connection->empty() ? "/v1/diagnose" : "/v1/connections/" + *connection + "/diagnose";
    auto diagnosis = get_json(*target, path, "diagnose");
    if (!diagnosis) {
      exit_code = 1;
      return;
    }
    std::cout << (*json ? diagnosis->dump(2) + "\n" : format_diagnosis(*diagnosis));
    exit_code = diagnosis->value("summary", nlohmann::json::object()).value("fail", 0) > 0 ? 1 : 0;
  });
}

}  // namespace ergw::cli
