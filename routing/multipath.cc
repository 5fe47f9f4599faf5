#include "routing/multipath.h"

#include <string_view>

namespace ergw::routing {
namespace {

std::string_view attribute(const Route& route, std::string_view key) {
  for (const auto& [k, v] : route.attributes) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

bool mergeable_with(const Route& selected, const Route& other) {
  if (selected.destination != "unicast" || other.destination != "unicast") return false;
  if (selected.preference != other.preference) return false;  // BIRD's protocol preference comes first
  for (const std::string_view key : {"BGP.local_pref", "BGP.origin", "BGP.med"}) {
    if (attribute(selected, key) != attribute(other, key)) return false;
  }
  return selected.as_path.size() == other.as_path.size();
}

}  // namespace ergw::routing
