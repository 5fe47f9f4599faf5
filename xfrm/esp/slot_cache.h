// One lazily created object per data-path thread slot (see thread_slot.h).
// Only the thread owning a slot touches that slot's entry; the destructor runs
// when no packet is in flight (SaTable removes SAs under its exclusive lock).
#pragma once

#include <array>
#include <cstddef>

#include "xfrm/esp/engine.h"

namespace ergw::xfrm::esp {

template <typename T, void (*Free)(T*)>
class SlotCache {
 public:
  SlotCache() { entries_.fill(nullptr); }
  ~SlotCache() {
    for (T* entry : entries_) {
      if (entry != nullptr) Free(entry);
    }
  }
  SlotCache(const SlotCache&) = delete;
  SlotCache& operator=(const SlotCache&) = delete;

  // Returns the slot's object, creating it with `make()` on first use
  // (nullptr if creation failed).
  template <typename Make>
  T* get(size_t slot, Make&& make) {
    T*& entry = entries_[slot];
    if (entry == nullptr) entry = make();
    return entry;
  }

 private:
  std::array<T*, kMaxDataPathThreads> entries_;
};

}  // namespace ergw::xfrm::esp
