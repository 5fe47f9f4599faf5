// JsonFields: reads the members of one JSON object with a path for every
// diagnostic, case-insensitive member names (ARM prints camelCase, PowerShell's
// ConvertTo-Json PascalCase), and a record of which members were used so that
// the unknown ones can be reported.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/ip_prefix.h"
#include "gateway/policy/azure_enums.h"
#include "common/diagnostics.h"

namespace ergw::policy {

class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string path, Diagnostics& diagnostics);

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;
  bool has(std::string_view key) const;
  // The member, or nullptr; marks it used.
  const nlohmann::json* find(std::string_view key);

  std::optional<std::string> string(std::string_view key);
  std::optional<int64_t> integer(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<IpAddress> address(std::string_view key);
  // Arrays of CIDR strings; a bare address counts as a host prefix.
  std::vector<IpPrefix> prefixes(std::string_view key);
  const nlohmann::json* object(std::string_view key);
  const nlohmann::json* array(std::string_view key);

  template <typename E>
  std::optional<E> enumeration(std::string_view key) {
    auto text = string(key);
    if (!text) return std::nullopt;
    auto value = parse_enum<E>(*text);
    if (!value) {
      diagnostics_.error(path_of(key),
                         "\"" + *text + "\" is not a valid value; allowed: " + allowed_values<E>());
    }
    return value;
  }

  // Marks members as known and deliberately ignored (Azure's read-only fields).
  void ignore(std::initializer_list<std::string_view> keys);
  // A warning for every member not read or ignored: most often a typo.
  void warn_unknown();

  // Holds the reader to a vocabulary kept elsewhere: asking for a member
  // outside it (has, find and the typed readers) throws std::logic_error.
  // A programming error, not bad input: it makes a reader that learns a new
  // member fail every test until the shared list has the member too.
  void limit_to(std::span<const std::string_view> vocabulary) { vocabulary_ = vocabulary; }

 private:
  const nlohmann::json* lookup(std::string_view key) const;
  void check_vocabulary(std::string_view key) const;

  const nlohmann::json& object_;
  std::string path_;
  Diagnostics& diagnostics_;
  std::set<std::string> used_;  // lower-cased member names
  std::span<const std::string_view> vocabulary_;  // empty: any member
};

std::string json_type_name(const nlohmann::json& value);
std::optional<IpPrefix> parse_prefix_field(const nlohmann::json& value, const std::string& path,
                                           Diagnostics& diagnostics);

}  // namespace ergw::policy
