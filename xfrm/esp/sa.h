// One Security Association's data-path state: the transform, the outbound
// sequence counter or the inbound replay window, lifetimes and counters.
// Created and owned by SaTable; the per-packet entry points are the free
// functions of engine.h.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "xfrm/esp/engine.h"
#include "xfrm/esp/replay_window.h"
#include "xfrm/esp/sa_config.h"
#include "xfrm/esp/sa_events.h"
#include "xfrm/esp/spin_lock.h"
#include "xfrm/esp/transform.h"

namespace ergw::xfrm::esp {

class SaTable;

// Outbound without ESN: ask for a rekey once 15/16 of the 32-bit space is used
// (about 268 million packets left), well before RFC 4303 2.2 forbids cycling.
inline constexpr uint64_t kSoftSequenceLimit32 = 0xF0000000ULL;
inline constexpr uint64_t kSoftSequenceLimit64 = 0xFFFFFFFF00000000ULL;

class Sa {
 public:
  using Clock = std::chrono::steady_clock;
  // `table` receives lifetime events; may be null (events are then dropped).
  Sa(SaId id, const SaConfig& config, std::unique_ptr<Transform> transform, SaTable* table,
     Clock::time_point created);
  ~Sa();
  Sa(const Sa&) = delete;
  Sa& operator=(const Sa&) = delete;

  EncapResult encapsulate(std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length);
  BurstGrant reserve_burst(std::span<const size_t> inner_lengths);
  EncapResult encapsulate_reserved(std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length,
                                   uint64_t sequence);
  DecapResult decapsulate(std::span<uint8_t> buffer);
  DecapResult decapsulate_uncharged(std::span<uint8_t> buffer);
  size_t charge_received(std::span<const size_t> inner_lengths);
  size_t esp_length(size_t inner_length) const;

  void expire_by_time(Clock::time_point now);
  // Marks the SA dead without an event (the control plane retired it).
  void retire() { expired_.store(true, std::memory_order_release); }

  SaId id() const { return id_; }
  const SaConfig& config() const { return config_; }
  SaCounters counters() const;
  bool expired() const { return expired_.load(std::memory_order_acquire); }
  uint64_t sequence() const { return sequence_.load(std::memory_order_relaxed); }
  void count_drop(DropReason reason, uint64_t packets = 1) {
    drops_[static_cast<size_t>(reason)].fetch_add(packets, std::memory_order_relaxed);
  }

 private:
  EncapResult encap_drop(DropReason reason);
  DecapResult decap_drop(DropReason reason, uint64_t sequence = 0);
  // Writes the trailer and ESP header around a packet check_outbound passed
  // and seals it with `seq`.
  EncapResult seal_checked(uint8_t* inner, size_t inner_offset, size_t inner_length, uint64_t seq);
  // Checks an outbound packet before it takes a sequence number.
  std::optional<DropReason> check_outbound(std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length,
                                           bool reserved) const;
  // Charges the packets of `lengths` (one batch) to the counters and
  // lifetimes; returns how many of them, the first ones, fit under the hard
  // limits (the rest are not counted, and the SA is then hard-expired).
  // Without a hard byte or packet limit: one atomic add each for packets and
  // bytes. With one: the same under charge_lock_, so that the check and the
  // add are one step and the counters never pass the limit, not even for a
  // moment (QUERY_SA must never see them fall back).
  size_t charge(std::span<const size_t> lengths);
  void raise(ExpireKind kind, ExpireCause cause);
  // Trailer and inner header checks after decryption (RFC 4303 2.4, 2.6).
  std::optional<DropReason> parse_plaintext(const uint8_t* plain, size_t plain_bytes,
                                            DecapResult& result) const;

  const SaId id_;
  SaConfig config_;  // not const: the destructor wipes the keys
  const std::unique_ptr<Transform> transform_;
  SaTable* const table_;
  const Clock::time_point created_;

  // Outbound: last sequence number handed out (fetch_add makes each unique
  // across threads). Inbound: mirror of the window's right edge.
  std::atomic<uint64_t> sequence_;
  SpinLock replay_lock_;  // guards window_ (check before, accept after the ICV)
  std::optional<ReplayWindow> window_;  // inbound with anti-replay only

  std::atomic<bool> expired_{false};
  std::atomic<bool> soft_raised_{false};
  std::atomic<bool> hard_raised_{false};
  SpinLock charge_lock_;  // only for SAs with a hard byte or packet limit
  std::atomic<uint64_t> packets_;
  std::atomic<uint64_t> bytes_;
  // Any soft or hard byte or packet limit: without one, charging a batch is
  // two atomic adds and nothing to compare.
  const bool volume_limits_;
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops_{};
};

}  // namespace ergw::xfrm::esp
