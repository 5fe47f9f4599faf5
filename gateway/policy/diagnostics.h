// Diagnostics: what validation found, each naming the field path as the user
// wrote it, the bad value, the allowed values, and for warnings a concrete fix.
// Validation collects every finding before answering, so an engineer sees all
// problems of a file at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ergw::policy {

enum class Severity { error, warning, note };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string path;     // e.g. "connections[0].azure.properties.ipsecPolicies[0].dhGroup"
  std::string message;  // what is wrong, with the value and the allowed values
  std::string fix;      // for warnings and notes: what to do about it (may be empty)
};

class Diagnostics {
 public:
  void error(std::string path, std::string message);
  void warning(std::string path, std::string message, std::string fix);
  void note(std::string path, std::string message, std::string fix = {});

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Diagnostic>& all() const { return items_; }
  void append(const Diagnostics& other);

  // "error: PATH: MESSAGE" lines, then "  fix: ..." where there is one.
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

std::string_view severity_name(Severity severity);
std::string format_diagnostic(const Diagnostic& diagnostic);

}  // namespace ergw::policy
