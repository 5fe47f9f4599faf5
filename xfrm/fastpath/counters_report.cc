#include "xfrm/fastpath/counters_report.h"

#include <cstdio>

#include "xfrm/esp/drop_reason.h"
#include "xfrm/esp/engine.h"

namespace ergw::xfrm::fastpath {
namespace {

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

std::string drops_line(const std::array<uint64_t, esp::kDropReasonCount>& drops) {
  std::string line;
  for (size_t r = 0; r < esp::kDropReasonCount; ++r) {
    line += " ";
    line += esp::to_string(static_cast<esp::DropReason>(r));
    line += "=" + std::to_string(drops[r]);
  }
  return line;
}

}  // namespace

std::string counters_report(Datapath& datapath) {
  std::string text;
  const SaFile& file = datapath.sa_file();
  {
    esp::SaTable::ReadLock lock = datapath.table().read_lock();
    for (size_t i = 0; i < file.sas.size(); ++i) {
      const StaticSa& sa = file.sas[i];
      const esp::Sa* handle = datapath.table().find(datapath.sa_ids()[i]);
      if (handle == nullptr) continue;
      const esp::SaCounters c = esp::sa_counters(*handle);
      const char* dir = sa.config.direction == esp::Direction::outbound ? "out" : "in";
      text += "counters sa=" + sa.name + " dir=" + dir + " spi=" + hex32(sa.config.spi) +
              " packets=" + std::to_string(c.packets) + " bytes=" + std::to_string(c.bytes) +
              " sequence=" + std::to_string(esp::sa_sequence(*handle)) +
              " expired=" + (esp::sa_expired(*handle) ? "yes" : "no") + "\n";
      text += "counters sa=" + sa.name + " drops" + drops_line(c.drops) + "\n";
    }
  }
  text += "counters table drops" + drops_line(datapath.table().table_drops()) + "\n";
  const auto io = datapath.io_counters();
  text += "counters io";
  for (size_t i = 0; i < kIoCounterCount; ++i) {
    text += " " + std::string(kIoCounterNames[i]) + "=" + std::to_string(io[i]);
  }
  text += "\n";
  return text;
}

}  // namespace ergw::xfrm::fastpath
