// Fuzz the lab's parsers of text it did not write itself: ping and iperf3
// output, owner.json (which a crash or another program may have damaged), and
// charon's log read for libipsec's drops.
// The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lab/lab_state.h"
#include "lab/libipsec_drops.h"
#include "lab/traffic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto ping = ergw::lab::parse_ping_output(text);
      if (ping.ok()) (void)ergw::lab::summarize_continuous_ping(ping.value());
      break;
    }
    case 1:
      (void)ergw::lab::parse_iperf3_json(text);
      break;
    case 2:
      (void)ergw::lab::libipsec_drops(text);
      break;
    default: {
      auto record = ergw::lab::OwnerRecord::from_json(text);
      if (record.ok()) (void)ergw::lab::OwnerRecord::from_json(record->to_json());
      break;
    }
  }
  return 0;
}
