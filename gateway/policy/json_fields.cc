#include "gateway/policy/json_fields.h"

#include <algorithm>
#include <stdexcept>

namespace ergw::policy {
namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a fractional number";
    default: return "an unsupported value";
  }
}

JsonFields::JsonFields(const nlohmann::json& object, std::string path, Diagnostics& diagnostics)
    : object_(object), path_(std::move(path)), diagnostics_(diagnostics) {}

std::string JsonFields::path_of(std::string_view key) const {
  // Report the member under the spelling the input used.
  std::string name(key);
  if (object_.is_object()) {
    for (const auto& item : object_.items()) {
      if (equals_ignoring_case(item.key(), key)) {
        name = item.key();
        break;
      }
    }
  }
  return path_.empty() ? name : path_ + "." + name;
}

const nlohmann::json* JsonFields::lookup(std::string_view key) const {
  if (!object_.is_object()) return nullptr;
  for (const auto& item : object_.items()) {
    if (equals_ignoring_case(item.key(), key)) return &item.value();
  }
  return nullptr;
}

void JsonFields::check_vocabulary(std::string_view key) const {
  if (vocabulary_.empty()) return;
  for (auto known : vocabulary_) {
    if (equals_ignoring_case(known, key)) return;
  }
  throw std::logic_error("JsonFields at \"" + path_ + "\": the reader asked for \"" + std::string(key) +
                         "\", which its vocabulary lacks");
}

bool JsonFields::has(std::string_view key) const {
  check_vocabulary(key);
  const auto* value = lookup(key);
  return value != nullptr && !value->is_null();
}

const nlohmann::json* JsonFields::find(std::string_view key) {
  check_vocabulary(key);
  used_.insert(lowercase(key));
  const auto* value = lookup(key);
  return (value == nullptr || value->is_null()) ? nullptr : value;
}

std::optional<std::string> JsonFields::string(std::string_view key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    diagnostics_.error(path_of(key), "must be a string, not " + json_type_name(*value));
    return std::nullopt;
  }
  return value->get<std::string>();
}

std::optional<int64_t> JsonFields::integer(std::string_view key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_number_unsigned() && value->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(value->get<uint64_t>());
  }
  diagnostics_.error(path_of(key), "must be an integer, not " + json_type_name(*value));
  return std::nullopt;
}

std::optional<bool> JsonFields::boolean(std::string_view key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    diagnostics_.error(path_of(key), "must be true or false, not " + json_type_name(*value));
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<IpAddress> JsonFields::address(std::string_view key) {
  auto text = string(key);
  if (!text) return std::nullopt;
  auto parsed = IpAddress::parse(*text);
  if (!parsed) diagnostics_.error(path_of(key), "\"" + *text + "\" is not an IPv4 or IPv6 address");
  return parsed;
}

std::optional<IpPrefix> parse_prefix_field(const nlohmann::json& value, const std::string& path,
                                           Diagnostics& diagnostics) {
  if (!value.is_string()) {
    diagnostics.error(path, "must be a CIDR prefix string such as \"10.1.0.0/16\", not " + json_type_name(value));
    return std::nullopt;
  }
  const auto text = value.get<std::string>();
  auto prefix = IpPrefix::parse(text);
  if (!prefix) {
    if (IpPrefix::parse(text, /*allow_host_bits=*/true)) {
      diagnostics.error(path, "\"" + text + "\" has host bits set after the prefix length; did you mean \"" +
                                  IpPrefix::parse(text, true)->to_string() + "\"?");
    } else {
      diagnostics.error(path, "\"" + text + "\" is not a CIDR prefix such as \"10.1.0.0/16\" or \"2001:db8::/48\"");
    }
  }
  return prefix;
}

std::vector<IpPrefix> JsonFields::prefixes(std::string_view key) {
  std::vector<IpPrefix> out;
  const auto* value = find(key);
  if (value == nullptr) return out;
  if (!value->is_array()) {
    diagnostics_.error(path_of(key), "must be an array of CIDR prefixes, not " + json_type_name(*value));
    return out;
  }
  for (size_t i = 0; i < value->size(); ++i) {
    auto prefix = parse_prefix_field((*value)[i], path_of(key) + "[" + std::to_string(i) + "]", diagnostics_);
    if (prefix) out.push_back(*prefix);
  }
  return out;
}

const nlohmann::json* JsonFields::object(std::string_view key) {
  const auto* value = find(key);
  if (value == nullptr) return nullptr;
  if (!value->is_object()) {
    diagnostics_.error(path_of(key), "must be an object, not " + json_type_name(*value));
    return nullptr;
  }
  return value;
}

const nlohmann::json* JsonFields::array(std::string_view key) {
  const auto* value = find(key);
  if (value == nullptr) return nullptr;
  if (!value->is_array()) {
    diagnostics_.error(path_of(key), "must be an array, not " + json_type_name(*value));
    return nullptr;
  }
  return value;
}

void JsonFields::ignore(std::initializer_list<std::string_view> keys) {
  for (auto key : keys) used_.insert(lowercase(key));
}

void JsonFields::warn_unknown() {
  if (!object_.is_object()) return;
  for (const auto& item : object_.items()) {
    if (used_.count(lowercase(item.key())) == 0) {
      diagnostics_.warning(path_.empty() ? item.key() : path_ + "." + item.key(), "unknown field, ignored",
                           "check the spelling against the ARM schema (or docs/configuration.md)");
    }
  }
}

}  // namespace ergw::policy
