#include "gateway/diagnose/finding.h"

namespace ergw::diagnose {

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::warning: return "warning";
    case Outcome::fail: return "fail";
    case Outcome::skipped: return "skipped";
  }
  return "skipped";
}

nlohmann::json to_json(const Finding& finding) {
  nlohmann::json j = {{"check", finding.check},
                      {"connection", finding.connection},
                      {"result", std::string(to_string(finding.result))},
                      {"evidence", finding.evidence}};
  if (!finding.fix.empty()) j["fix"] = finding.fix;
  return j;
}

nlohmann::json to_json(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) out.push_back(to_json(f));
  return out;
}

}  // namespace ergw::diagnose
