#include "gateway/api/problem.h"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace ergw::api {

nlohmann::json problem(int status, const std::string& kind, const std::string& title, const std::string& detail) {
  nlohmann::json j = {{"type", "urn:ergw:problem:" + kind}, {"title", title}, {"status", status}};
  if (!detail.empty()) j["detail"] = detail;
  return j;
}

namespace {

nlohmann::json diagnostic_json(const Diagnostic& d) {
  nlohmann::json j = {{"severity", std::string(severity_name(d.severity))}, {"path", d.path},
                      {"message", d.message}};
  if (!d.fix.empty()) j["fix"] = d.fix;
  return j;
}

}  // namespace

nlohmann::json diagnostics_json(const Diagnostics& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : diagnostics.all()) out.push_back(diagnostic_json(d));
  return out;
}

nlohmann::json warnings_json(const Diagnostics& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : diagnostics.all()) {
    if (d.severity != Severity::error) out.push_back(diagnostic_json(d));
  }
  return out;
}

std::string iso_time(int64_t unix_seconds) {
  if (unix_seconds == 0) return "";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t unix_deadline_in(int64_t seconds) {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch() + std::chrono::seconds(seconds);
  return std::chrono::ceil<std::chrono::seconds>(since_epoch).count();
}

int64_t whole_seconds_until(int64_t unix_deadline) {
  const auto left = std::chrono::seconds(unix_deadline) - std::chrono::system_clock::now().time_since_epoch();
  return std::max<int64_t>(0, std::chrono::floor<std::chrono::seconds>(left).count());
}

}  // namespace ergw::api
