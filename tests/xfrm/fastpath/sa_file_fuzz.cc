// libFuzzer target: the static SA file parser must reject any input with an
// error (never crash, hang or read out of bounds).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xfrm/fastpath/sa_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = ergw::xfrm::fastpath::parse_sa_file(
      std::string_view(reinterpret_cast<const char*>(data), size));
  (void)result.ok();
  return 0;
}
