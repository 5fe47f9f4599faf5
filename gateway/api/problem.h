// Error responses: RFC 9457 problem details (application/problem+json), the
// same shape for every failure: a type, a title, the HTTP status, a detail
// sentence, and where they help, the diagnostics with field paths and fixes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/diagnostics.h"

namespace ergw::api {

// `kind` becomes the type URI "urn:ergw:problem:<kind>".
nlohmann::json problem(int status, const std::string& kind, const std::string& title, const std::string& detail);

// Every diagnostic: [{severity, path, message, fix}].
nlohmann::json diagnostics_json(const Diagnostics& diagnostics);
// Only the warnings and notes (for a request that succeeded).
nlohmann::json warnings_json(const Diagnostics& diagnostics);

// "2024-05-01T12:00:00Z"; empty for 0.
std::string iso_time(int64_t unix_seconds);
int64_t unix_now();
// The first whole second at least `seconds` from now: a deadline kept in whole
// seconds must not come earlier than the time it promises.
int64_t unix_deadline_in(int64_t seconds);
// Whole seconds left until a deadline in unix seconds, rounded down (never
// more than the time that is left); 0 once it has passed.
int64_t whole_seconds_until(int64_t unix_deadline);

}  // namespace ergw::api
