#include "vici/sa_state.h"

#include <array>

namespace ergw::vici {
namespace {

#define ERGW_SA_STATE_NAME(name, text) std::string_view(text),
constexpr std::array kIkeNames{ERGW_IKE_SA_STATES(ERGW_SA_STATE_NAME)};
constexpr std::array kChildNames{ERGW_CHILD_SA_STATES(ERGW_SA_STATE_NAME)};
#undef ERGW_SA_STATE_NAME

template <typename State, size_t N>
std::optional<State> parse(const std::array<std::string_view, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<State>(i);
  }
  return std::nullopt;
}

template <size_t N>
std::string join(const std::array<std::string_view, N>& names) {
  std::string out;
  for (const auto name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

}  // namespace

std::string_view to_string(IkeSaState state) { return kIkeNames.at(static_cast<size_t>(state)); }
std::string_view to_string(ChildSaState state) { return kChildNames.at(static_cast<size_t>(state)); }

std::optional<IkeSaState> parse_ike_sa_state(std::string_view name) { return parse<IkeSaState>(kIkeNames, name); }
std::optional<ChildSaState> parse_child_sa_state(std::string_view name) {
  return parse<ChildSaState>(kChildNames, name);
}

std::string allowed_ike_sa_states() { return join(kIkeNames); }
std::string allowed_child_sa_states() { return join(kChildNames); }

}  // namespace ergw::vici
