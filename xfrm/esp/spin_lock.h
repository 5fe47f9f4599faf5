// A tiny test-and-test-and-set lock for the replay window's critical sections,
// which are a few dozen instructions and never block: unlocking is a plain
// release store, cheaper on the per-packet path than std::mutex. A waiter
// yields after a short spin, so a preempted holder costs no more than a
// context switch.
#pragma once

#include <atomic>
#include <thread>

namespace ergw::xfrm::esp {

class SpinLock {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins >= 64) std::this_thread::yield();
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace ergw::xfrm::esp
