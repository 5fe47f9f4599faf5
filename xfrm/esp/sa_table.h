// The set of live SAs: inbound looked up by SPI in O(1) (hash), outbound by
// SaId (array index). Sized for 10,000+ SAs.
//
// Concurrency: lookups and per-packet calls run under a shared (reader) lock,
// add/remove take the exclusive lock, so an Sa* obtained under a ReadLock
// stays valid until that lock is released. The data path takes one ReadLock
// per packet (the convenience calls below) or one per batch.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include "common/result.h"
#include "xfrm/esp/engine.h"
#include "xfrm/esp/sa_config.h"
#include "xfrm/esp/sa_events.h"

namespace ergw::xfrm::esp {

class SaTable {
 public:
  using Clock = std::chrono::steady_clock;
  using ReadLock = std::shared_lock<std::shared_mutex>;
  // Called on the thread that crossed the limit (a data-path thread for
  // bytes/packets/sequence), under the event queue's lock. Must not block and
  // must not call back into the SaTable; e.g. write to an eventfd.
  using EventCallback = std::function<void(const SaEvent&)>;

  explicit SaTable(size_t expected_sas = 1024);
  ~SaTable();
  SaTable(const SaTable&) = delete;
  SaTable& operator=(const SaTable&) = delete;

  // Validates and installs the SA. Inbound SPIs must be unique in the table.
  Result<SaId> add(const SaConfig& config, Clock::time_point now = Clock::now());
  // Removes the SA; waits for packets in flight on it (exclusive lock).
  Status remove(SaId id);
  size_t size() const;

  ReadLock read_lock() const { return ReadLock(mutex_); }
  // Both return nullptr when absent; valid while a ReadLock is held.
  Sa* find_inbound(uint32_t spi) const;
  Sa* find(SaId id) const;

  // Convenience per-packet calls taking the ReadLock themselves.
  // decapsulate counts unknown SPIs and truncated headers in table_drops().
  DecapResult decapsulate(std::span<uint8_t> esp);
  EncapResult encapsulate(SaId outbound, std::span<uint8_t> buffer, size_t inner_offset,
                          size_t inner_length);

  // Drops that could not be charged to an SA (unknown_spi, truncated header).
  std::array<uint64_t, kDropReasonCount> table_drops() const;
  // For callers that resolve SPIs themselves (find_inbound under a batch lock).
  void count_table_drop(DropReason reason);

  // Time-based lifetimes: the control plane calls this periodically (e.g. once
  // a second); it raises seconds soft/hard events and expires SAs. Packet
  // handling never reads the clock.
  void expire_by_time(Clock::time_point now);

  // Events: kept in a bounded queue the control plane drains, and optionally
  // passed to a callback as they happen.
  void set_event_callback(EventCallback callback);
  size_t drain_events(std::vector<SaEvent>& out);
  uint64_t events_lost() const;  // queue overflow (should stay 0)

  // Internal: SAs report events through this.
  void post_event(const SaEvent& event);

 private:
  struct Impl;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ergw::xfrm::esp
