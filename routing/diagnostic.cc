#include "routing/diagnostic.h"

#include <algorithm>

namespace ergw::routing {

std::string Diagnostic::to_string() const {
  return std::string(severity == Severity::kError ? "error: " : "warning: ") + field + ": " + message;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::kError; });
}

std::string join(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) {
    if (!text.empty()) text += '\n';
    text += d.to_string();
  }
  return text;
}

}  // namespace ergw::routing
