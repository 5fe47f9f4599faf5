// contains(text, part): the check most tests of generated text make.
#pragma once

#include <string_view>

namespace ergw::testing {

inline bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace ergw::testing
