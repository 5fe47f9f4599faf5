// Why a tunnel is not up, in an engineer's words, recognised from charon's
// own log lines (vici "log" and "control-log" events). charon at its default
// log levels never logs key material; ergw keeps only the message text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ergw::gateway {

struct FailureReason {
  std::string reason;  // "authentication failed", "no proposal chosen", ...
  std::string hint;    // what to check
};

// nullopt for lines that are not a failure.
std::optional<FailureReason> classify_charon_log(std::string_view message);

}  // namespace ergw::gateway
