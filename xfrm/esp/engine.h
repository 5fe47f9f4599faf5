// The per-packet calls of the userspace ESP engine (tunnel mode, RFC 4303).
//
// Buffers: the engine works in place on caller memory and never allocates,
// throws or logs per packet.
//
//   encapsulate: the inner IP packet sits at buffer[inner_offset, +inner_length].
//     The engine writes the ESP header + IV into the kEspHeadroom octets before
//     it and the padding, trailer and ICV into at most kEspTailroom octets after
//     it. On success [esp_offset, +esp_length] is the ESP payload SPI..ICV,
//     ready for the outer IP (protocol 50) or UDP (RFC 3948) header, which the
//     caller puts in front (reserve kEspHeadroom + outer header bytes).
//
//   decapsulate: buffer holds the ESP payload SPI..ICV (after the outer IP or
//     UDP header). It is decrypted in place; on success
//     [inner_offset, +inner_length] is the inner IPv4/IPv6 packet.
//
// Thread safety: any number of threads may call encapsulate/decapsulate on the
// same SA at once (see docs/esp-engine.md "Multi-core").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "xfrm/esp/drop_reason.h"
#include "xfrm/esp/sa_events.h"

namespace ergw::xfrm::esp {

class Sa;  // one SA; owned by an SaTable (xfrm/esp/sa_table.h)

// SPI(4) + sequence(4) + the largest explicit IV (CBC: 16).
inline constexpr size_t kEspHeadroom = 24;
// Padding (<= 15 for CBC) + pad length + next header + the largest ICV (24).
inline constexpr size_t kEspTailroom = 64;
// Smallest ESP payload worth parsing: SPI + sequence.
inline constexpr size_t kEspHeaderBytes = 8;
// Longest inner packet (IPv4 total length; IPv6 jumbograms are not carried)
// and longest ESP payload accepted.
inline constexpr size_t kMaxPacketBytes = 65535;
// Upper bound of threads that run the data path at the same time; each gets a
// slot for cached cipher contexts (released when the thread exits).
inline constexpr size_t kMaxDataPathThreads = 64;

struct EncapResult {
  bool ok = false;
  DropReason drop = DropReason::crypto_failure;  // meaningful when !ok
  size_t esp_offset = 0;
  size_t esp_length = 0;
  uint64_t sequence = 0;  // full (64-bit) sequence number used
};

struct DecapResult {
  bool ok = false;
  DropReason drop = DropReason::crypto_failure;  // meaningful when !ok
  SaId sa = kInvalidSaId;                        // set once the SPI was found
  size_t inner_offset = 0;
  size_t inner_length = 0;
  uint8_t inner_version = 0;  // 4 or 6
  uint64_t sequence = 0;      // full (64-bit, ESN-inferred) sequence number
};

// Outbound: protects one inner IPv4/IPv6 packet with `sa`.
EncapResult encapsulate(Sa& sa, std::span<uint8_t> buffer, size_t inner_offset,
                        size_t inner_length);

// Outbound in batches (the fast path's worker collects every packet one SA
// carries in a batch, up to 64): reserve_burst takes the sequence numbers of
// the whole batch with one fetch_add, then checks and charges the lifetimes
// for all of them at once (one atomic add for packets and one for bytes, or
// one short per-SA lock when the SA has a hard byte or packet limit), instead
// of three atomics per packet. Each packet is then protected with
// encapsulate_reserved and its number first_sequence + i. Fewer than asked are
// granted when a hard limit or the sequence space ends inside the batch (the
// first packets that fit; the sum of granted packets and bytes never passes a
// hard limit), with `drop` saying why; the caller drops the rest and counts
// them with count_burst_drops. The numbers of packets not granted are never
// used: the SA ended.
struct BurstGrant {
  uint64_t first_sequence = 0;
  size_t granted = 0;
  DropReason drop = DropReason::sa_expired;  // for the packets not granted
};
BurstGrant reserve_burst(Sa& sa, std::span<const size_t> inner_lengths);
EncapResult encapsulate_reserved(Sa& sa, std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length,
                                 uint64_t sequence);
void count_burst_drops(Sa& sa, DropReason reason, size_t packets);
// The ESP payload (SPI..ICV) that encapsulating an inner packet of this
// length produces: lets a caller lay packets out before they are sealed.
size_t esp_length(const Sa& sa, size_t inner_length);

// Inbound: verifies and decrypts one ESP payload with `sa` (whose SPI the
// caller already matched, e.g. via SaTable::find_inbound) and charges it to
// the lifetimes.
DecapResult decapsulate(Sa& sa, std::span<uint8_t> buffer);

// Inbound in batches: decapsulate_uncharged does everything decapsulate does
// (ICV, replay window, trailer) except charging the lifetimes; the caller
// collects the inner lengths of the batch's authentic packets per SA and
// charges them with one charge_received, which returns how many of them (the
// first ones) fit under the hard limits. The rest must be dropped; they are
// counted as sa_expired. Packets and bytes are counted only here, so an SA's
// counters never include a packet that was not delivered.
DecapResult decapsulate_uncharged(Sa& sa, std::span<uint8_t> buffer);
size_t charge_received(Sa& sa, std::span<const size_t> inner_lengths);

// The SPI of an ESP payload, or 0 if it is shorter than an SPI.
uint32_t peek_spi(std::span<const uint8_t> esp);

// Per-SA introspection (cheap, lock-free snapshots).
SaId sa_id(const Sa& sa);
const SaConfig& sa_config(const Sa& sa);  // keys included: never log it
SaCounters sa_counters(const Sa& sa);
bool sa_expired(const Sa& sa);
// Outbound: last sequence number handed out. Inbound: right edge of the window.
uint64_t sa_sequence(const Sa& sa);

}  // namespace ergw::xfrm::esp
