// Small string helpers shared by the reply parsers (internal to routing/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ergw::routing::text {

std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
// Splits at runs of spaces and tabs.
std::vector<std::string_view> words(std::string_view s);
std::optional<uint64_t> parse_u64(std::string_view s);
// Leading spaces, tabs counting as 8.
int indentation(std::string_view s);

}  // namespace ergw::routing::text
