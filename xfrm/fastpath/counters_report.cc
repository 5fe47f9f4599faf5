#include "xfrm/fastpath/counters_report.h"

#include "xfrm/esp/drop_reason.h"
#include "xfrm/esp/engine.h"
#include "xfrm/fastpath/spi_text.h"

namespace ergw::xfrm::fastpath {
namespace {

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

std::string counters_report(const Datapath& datapath, const IpsecState& state, const SaLabels& labels) {
  std::string text;
  for (const IpsecState::SaReport& sa : state.sa_reports()) {
    const auto label = labels.find({sa.spi, sa.dst});
    const std::string name = label != labels.end() ? label->second : hex32(sa.spi);
    text += "counters sa=" + name + " dir=" + (sa.inbound ? "in" : "out") + " spi=" + hex32(sa.spi) +
            " packets=" + std::to_string(sa.counters.packets) + " bytes=" + std::to_string(sa.counters.bytes) +
            " sequence=" + std::to_string(sa.sequence) + " expired=" + (sa.expired ? "yes" : "no") + "\n";
    text += "counters sa=" + name + " drops" + drops_line(sa.counters.drops) + "\n";
  }
  text += "counters table drops" + drops_line(state.table().table_drops()) + "\n";
  const auto io = datapath.io_counters();
  text += "counters io";
  for (size_t i = 0; i < kIoCounterCount; ++i) {
    text += " " + std::string(kIoCounterNames[i]) + "=" + std::to_string(io[i]);
  }
  text += "\n";
  return text;
}

}  // namespace ergw::xfrm::fastpath
