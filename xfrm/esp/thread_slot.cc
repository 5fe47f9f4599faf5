#include "xfrm/esp/thread_slot.h"

#include <atomic>
#include <bit>
#include <cstdint>

#include "xfrm/esp/engine.h"

namespace ergw::xfrm::esp {
namespace {

static_assert(kMaxDataPathThreads == 64, "slot mask is one 64-bit word");
std::atomic<uint64_t> g_used_slots{0};

struct SlotHolder {
  size_t slot = kMaxDataPathThreads;
  SlotHolder() {
    uint64_t used = g_used_slots.load(std::memory_order_relaxed);
    while (used != ~uint64_t{0}) {
      const auto candidate = static_cast<size_t>(std::countr_one(used));
      // acq_rel: the new owner sees everything the previous owner of this
      // slot wrote into per-slot caches before it released the slot.
      if (g_used_slots.compare_exchange_weak(used, used | (uint64_t{1} << candidate),
                                             std::memory_order_acq_rel)) {
        slot = candidate;
        return;
      }
    }
  }
  ~SlotHolder() {
    if (slot < kMaxDataPathThreads) {
      g_used_slots.fetch_and(~(uint64_t{1} << slot), std::memory_order_acq_rel);
    }
  }
  SlotHolder(const SlotHolder&) = delete;
  SlotHolder& operator=(const SlotHolder&) = delete;
};

}  // namespace

size_t current_thread_slot() {
  thread_local SlotHolder holder;
  return holder.slot;
}

}  // namespace ergw::xfrm::esp
