#include "xfrm/esp/drop_reason.h"

#include <array>

namespace ergw::xfrm::esp {
namespace {

constexpr std::array<std::string_view, kDropReasonCount> kNames = {
#define ERGW_ESP_X(name, text) #name,
    ERGW_ESP_DROP_REASONS(ERGW_ESP_X)
#undef ERGW_ESP_X
};

constexpr std::array<std::string_view, kDropReasonCount> kTexts = {
#define ERGW_ESP_X(name, text) text,
    ERGW_ESP_DROP_REASONS(ERGW_ESP_X)
#undef ERGW_ESP_X
};

}  // namespace

std::string_view to_string(DropReason reason) {
  const auto index = static_cast<size_t>(reason);
  return index < kNames.size() ? kNames[index] : std::string_view("invalid");
}

std::string_view describe(DropReason reason) {
  const auto index = static_cast<size_t>(reason);
  return index < kTexts.size() ? kTexts[index] : std::string_view("invalid drop reason");
}

}  // namespace ergw::xfrm::esp
