#include "xfrm/fastpath/larval_hold.h"

#include <algorithm>

#include "xfrm/esp/engine.h"

namespace ergw::xfrm::fastpath {

bool LarvalHold::hold(std::span<const uint8_t> esp, bool via_udp, const sockaddr_storage* source,
                      Clock::time_point now) {
  if (packets_.size() >= limits_.packets || bytes_ + esp.size() > limits_.bytes) return false;
  Packet& p = packets_.emplace_back();
  p.esp.assign(esp.begin(), esp.end());
  p.via_udp = via_udp;
  if (source != nullptr) p.source = *source;
  p.since = now;
  bytes_ += esp.size();
  return true;
}

LarvalHold::Released LarvalHold::release(Clock::time_point now, const std::function<SpiState(uint32_t)>& state_of,
                                         const std::function<void(Packet&)>& deliver) {
  Released out;
  // Indexes, not iterators: nothing is added while we walk (`deliver` only
  // sees installed SPIs, which are never held), but stay safe if it were.
  for (size_t i = 0; i < packets_.size(); ++i) {
    Packet& p = packets_[i];
    if (p.released) continue;
    const SpiState state = state_of(esp::peek_spi(p.esp));
    if (state == SpiState::installed) {
      p.released = true;
      ++out.delivered;
      deliver(p);
    } else if (state == SpiState::unknown || now - p.since > limits_.max_wait) {
      p.released = true;
      ++out.dropped;
    }
  }
  return out;
}

void LarvalHold::discard_released() {
  std::erase_if(packets_, [this](const Packet& p) {
    if (p.released) bytes_ -= p.esp.size();
    return p.released;
  });
}

}  // namespace ergw::xfrm::fastpath
