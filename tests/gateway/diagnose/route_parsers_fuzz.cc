// iproute2's JSON is outside input to `ergw diagnose`: the route dump and
// route lookup parsers must take anything without crashing or throwing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/diagnose/kernel_routes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto routes = ergw::diagnose::parse_route_dump(text);
  if (routes) {
    for (const auto& r : routes.value()) (void)r.describe();
  }
  auto lookup = ergw::diagnose::parse_route_get(text);
  if (lookup) (void)lookup.value().describe();
  return 0;
}
