// parse_json: nlohmann::json parsing that never throws and never quotes the
// input back. (nlohmann's non-throwing mode still throws out_of_range for a
// number too large for a double, and its messages quote the text last read,
// which may be a key: found by fuzzing.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw {

struct JsonSyntaxError {
  std::size_t byte = 0;     // where it broke (1-based, as nlohmann counts)
  std::string what;         // "syntax error" or "number out of range"; never input text
};

// The document, or nullopt with `error` filled in.
inline std::optional<nlohmann::json> parse_json(std::string_view text, JsonSyntaxError* error = nullptr) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    if (error != nullptr) *error = {e.byte, "syntax error"};
  } catch (const nlohmann::json::exception&) {
    if (error != nullptr) *error = {0, "a number out of range"};
  }
  return std::nullopt;
}

}  // namespace ergw
