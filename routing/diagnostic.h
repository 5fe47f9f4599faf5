// A finding of configuration validation: which field, what is wrong, what is allowed.
#pragma once

#include <string>
#include <vector>

namespace ergw::routing {

struct Diagnostic {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  std::string field;    // e.g. "peers[azure0].local_asn"
  std::string message;  // names the value and the allowed values; never a secret

  std::string to_string() const;
};

bool has_errors(const std::vector<Diagnostic>& diagnostics);
// One line per diagnostic, for error messages and logs.
std::string join(const std::vector<Diagnostic>& diagnostics);

}  // namespace ergw::routing
