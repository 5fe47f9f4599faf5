// Diagnostics: what a validation found, each naming the field path as the user
// wrote it (or, for generated input, as its producer named it), the bad value,
// the allowed values, and for warnings a concrete fix. Validation collects
// every finding before answering, so an engineer sees all problems at once.
// The one finding type of the project: the Azure rule book (gateway/policy)
// and the BIRD configuration checks (routing) both report through it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ergw {

enum class Severity { error, warning, note };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string path;     // e.g. "connections[0].azure.properties.ipsecPolicies[0].dhGroup"
  std::string message;  // what is wrong, with the value and the allowed values; never a secret
  std::string fix;      // for warnings and notes: what to do about it (may be empty)
};

class Diagnostics {
 public:
  void error(std::string path, std::string message);
  void warning(std::string path, std::string message, std::string fix = {});
  void note(std::string path, std::string message, std::string fix = {});
  void add(Diagnostic diagnostic);

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Diagnostic>& all() const { return items_; }
  void append(const Diagnostics& other);

  // "error: PATH: MESSAGE" lines, then "  fix: ..." where there is one.
  std::string format() const;
  // The same for errors only, one per line, for a refusal message.
  std::string format_errors() const;

 private:
  std::vector<Diagnostic> items_;
};

std::string_view severity_name(Severity severity);
std::string format_diagnostic(const Diagnostic& diagnostic);

}  // namespace ergw
