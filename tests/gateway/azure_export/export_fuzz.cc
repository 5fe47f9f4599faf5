// Fuzzes the export of arbitrary configurations: whatever the reader and the
// rule book accept must plan, or be refused with diagnostics, and render in
// every format without crashing. (That the PSK stays out of the output is
// checked by the unit tests: a fuzzed key can equal any other field.)
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/parse_json.h"
#include "gateway/azure_export/arm_template.h"
#include "gateway/azure_export/az_script.h"
#include "gateway/azure_export/bicep_template.h"
#include "gateway/azure_export/plan.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ergw;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto document = parse_json(text, nullptr);
  if (!document) return 0;
  azure_export::Diagnostics d;
  auto config = policy::read_configuration(*document, "/nonexistent", d);
  if (!config) return 0;
  policy::validate_configuration(*config, d);
  if (d.has_errors()) return 0;
  azure_export::ExportOptions options;
  options.include_shared_keys = (size % 2) == 0;
  auto side = azure_export::plan_azure_side(*config, options, d);
  if (!side) return 0;
  const auto script = azure_export::az_script(*side);
  volatile size_t length =
      azure_export::arm_template(*side, "fuzz").dump().size() + azure_export::bicep_template(*side, "fuzz").size() +
      azure_export::render_az_script(script, "fuzz").size() + azure_export::az_script_json(script).dump().size();
  (void)length;
  return 0;
}
