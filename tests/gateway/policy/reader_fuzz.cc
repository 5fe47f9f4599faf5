// libFuzzer: arbitrary bytes as an ergw configuration / Azure connection
// object: reading, validation and compilation must never crash.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/parse_json.h"
#include "gateway/policy/compiler.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/swanctl_renderer.h"
#include "gateway/policy/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto document = ergw::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  ergw::Diagnostics diagnostics;
  if (document) {
    auto config = ergw::policy::read_configuration(*document, "/nonexistent", diagnostics);
    if (config) {
      ergw::policy::validate_configuration(*config, diagnostics, {.strict_expressroute = size % 2 == 0});
      if (!diagnostics.has_errors()) {
        auto compiled = ergw::policy::compile(*config);
        (void)ergw::policy::render_swanctl_conf(compiled, ergw::policy::SecretDisplay::redacted);
      }
    }
  }
  // The --ipsec-policy spelling, from the same bytes.
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ergw::policy::read_ipsec_policy_args(text, "ipsecPolicy", diagnostics);
  (void)diagnostics.format();
  return 0;
}
