#include "common/diagnostics.h"

#include <algorithm>

namespace ergw {

void Diagnostics::error(std::string path, std::string message) {
  items_.push_back({Severity::error, std::move(path), std::move(message), {}});
}

void Diagnostics::warning(std::string path, std::string message, std::string fix) {
  items_.push_back({Severity::warning, std::move(path), std::move(message), std::move(fix)});
}

void Diagnostics::note(std::string path, std::string message, std::string fix) {
  items_.push_back({Severity::note, std::move(path), std::move(message), std::move(fix)});
}

void Diagnostics::add(Diagnostic diagnostic) { items_.push_back(std::move(diagnostic)); }

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(std::count_if(items_.begin(), items_.end(),
                                           [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

size_t Diagnostics::warning_count() const {
  return static_cast<size_t>(std::count_if(
      items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::warning; }));
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string line(severity_name(d.severity));
  line += ": ";
  if (!d.path.empty()) {
    line += d.path;
    line += ": ";
  }
  line += d.message;
  if (!d.fix.empty()) {
    line += "\n  fix: ";
    line += d.fix;
  }
  return line;
}

std::string Diagnostics::format_errors() const {
  std::string out;
  for (const auto& d : items_) {
    if (d.severity != Severity::error) continue;
    if (!out.empty()) out += '\n';
    out += format_diagnostic(d);
  }
  return out;
}

std::string Diagnostics::format() const {
  std::string out;
  for (const auto& d : items_) {
    out += format_diagnostic(d);
    out += '\n';
  }
  return out;
}

}  // namespace ergw
