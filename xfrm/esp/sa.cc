#include "xfrm/esp/sa.h"

#include <openssl/crypto.h>

#include <cstring>

#include "xfrm/esp/byte_order.h"
#include "xfrm/esp/sa_table.h"
#include "xfrm/esp/thread_slot.h"

namespace ergw::xfrm::esp {
namespace {

constexpr uint8_t kNextHeaderIpv4 = 4;   // RFC 4303 2.6 / IANA protocol numbers
constexpr uint8_t kNextHeaderIpv6 = 41;
constexpr uint8_t kNextHeaderDummy = 59;  // RFC 4303 2.6: "no next header"

}  // namespace

Sa::Sa(SaId id, const SaConfig& config, std::unique_ptr<Transform> transform, SaTable* table,
       Clock::time_point created)
    : id_(id),
      config_(config),
      transform_(std::move(transform)),
      table_(table),
      created_(created),
      sequence_(config.initial_sequence),
      packets_(config.initial_packets),
      bytes_(config.initial_bytes),
      volume_limits_(config.lifetime.soft.packets != 0 || config.lifetime.soft.bytes != 0 ||
                     config.lifetime.hard.packets != 0 || config.lifetime.hard.bytes != 0) {
  if (config.direction == Direction::inbound && config.replay_window != 0) {
    window_.emplace(config.replay_window, config.initial_sequence);
  }
}

Sa::~Sa() {
  // The config copy holds keys; the transform wipes its own copies.
  OPENSSL_cleanse(config_.encryption_key.data(), config_.encryption_key.size());
  OPENSSL_cleanse(config_.integrity_key.data(), config_.integrity_key.size());
  OPENSSL_cleanse(config_.gcm_salt.data(), config_.gcm_salt.size());
}

SaCounters Sa::counters() const {
  SaCounters out;
  out.packets = packets_.load(std::memory_order_relaxed);
  out.bytes = bytes_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kDropReasonCount; ++i) out.drops[i] = drops_[i].load(std::memory_order_relaxed);
  return out;
}

EncapResult Sa::encap_drop(DropReason reason) {
  count_drop(reason);
  EncapResult result;
  result.drop = reason;
  return result;
}

DecapResult Sa::decap_drop(DropReason reason, uint64_t sequence) {
  count_drop(reason);
  DecapResult result;
  result.drop = reason;
  result.sa = id_;
  result.sequence = sequence;
  return result;
}

void Sa::raise(ExpireKind kind, ExpireCause cause) {
  std::atomic<bool>& once = kind == ExpireKind::soft ? soft_raised_ : hard_raised_;
  if (kind == ExpireKind::hard) expired_.store(true, std::memory_order_release);
  if (once.exchange(true, std::memory_order_acq_rel)) return;
  if (table_ != nullptr) {
    table_->post_event(SaEvent{id_, config_.spi, config_.direction, config_.owner_tag, kind, cause});
  }
}

size_t Sa::charge(std::span<const size_t> lengths) {
  const LifetimeLimits& hard = config_.lifetime.hard;
  const LifetimeLimits& soft = config_.lifetime.soft;
  size_t granted = lengths.size();
  uint64_t packets = 0;
  uint64_t bytes = 0;
  if (!volume_limits_) {
    // The common case (charon sets no volume limit unless configured): the
    // batch's sums are added once; nothing to check before or after.
    uint64_t sum = 0;
    for (size_t length : lengths) sum += length;
    packets_.fetch_add(lengths.size(), std::memory_order_relaxed);
    bytes_.fetch_add(sum, std::memory_order_relaxed);
    return granted;
  }
  if (hard.packets == 0 && hard.bytes == 0) {
    // Soft limits only: nothing can be refused.
    uint64_t sum = 0;
    for (size_t length : lengths) sum += length;
    packets = packets_.fetch_add(lengths.size(), std::memory_order_relaxed) + lengths.size();
    bytes = bytes_.fetch_add(sum, std::memory_order_relaxed) + sum;
  } else {
    // Reserve, then check, as one step: a packet is carried only if the
    // totals after it stay within every hard limit, so no packet beyond a
    // hard limit is ever carried and the counters never pass it.
    ExpireCause cause = ExpireCause::packets;
    {
      std::lock_guard lock(charge_lock_);
      packets = packets_.load(std::memory_order_relaxed);
      bytes = bytes_.load(std::memory_order_relaxed);
      granted = expired() ? 0 : lengths.size();
      for (size_t i = 0; i < granted; ++i) {
        if (hard.packets != 0 && packets + 1 > hard.packets) {
          granted = i;
          break;
        }
        if (hard.bytes != 0 && bytes + lengths[i] > hard.bytes) {
          granted = i;
          cause = ExpireCause::bytes;
          break;
        }
        ++packets;
        bytes += lengths[i];
      }
      packets_.store(packets, std::memory_order_relaxed);
      bytes_.store(bytes, std::memory_order_relaxed);
      // Before the lock is released: no other batch is granted after this.
      if (granted < lengths.size()) expired_.store(true, std::memory_order_release);
    }
    if (granted < lengths.size()) raise(ExpireKind::hard, cause);
  }
  if (hard.packets != 0 && packets >= hard.packets) raise(ExpireKind::hard, ExpireCause::packets);
  if (hard.bytes != 0 && bytes >= hard.bytes) raise(ExpireKind::hard, ExpireCause::bytes);
  if (soft.packets != 0 && packets >= soft.packets) raise(ExpireKind::soft, ExpireCause::packets);
  if (soft.bytes != 0 && bytes >= soft.bytes) raise(ExpireKind::soft, ExpireCause::bytes);
  return granted;
}

void Sa::expire_by_time(Clock::time_point now) {
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - created_).count();
  if (age < 0) return;
  const auto seconds = static_cast<uint64_t>(age);
  const LifetimeLimits& lifetime_soft = config_.lifetime.soft;
  const LifetimeLimits& lifetime_hard = config_.lifetime.hard;
  if (lifetime_soft.seconds != 0 && seconds >= lifetime_soft.seconds) {
    raise(ExpireKind::soft, ExpireCause::seconds);
  }
  if (lifetime_hard.seconds != 0 && seconds >= lifetime_hard.seconds) {
    raise(ExpireKind::hard, ExpireCause::seconds);
  }
}

std::optional<DropReason> Sa::check_outbound(std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length,
                                             bool reserved) const {
  if (config_.direction != Direction::outbound) return DropReason::wrong_direction;
  // A reserved packet keeps its grant even if its own burst just reached the
  // hard limit (the packet that reaches it is the last one carried).
  if (!reserved && expired()) return DropReason::sa_expired;
  const size_t header = transform_->header_bytes();
  if (inner_offset < header || inner_offset > buffer.size() || inner_length > buffer.size() - inner_offset) {
    return DropReason::buffer_too_small;
  }
  const uint8_t* inner = buffer.data() + inner_offset;
  if (inner_length == 0) return DropReason::bad_inner_packet;
  if (inner_length > kMaxPacketBytes) return DropReason::oversized;
  const unsigned version = inner[0] >> 4;
  if (!(version == 4 && inner_length >= 20) && !(version == 6 && inner_length >= 40)) {
    return DropReason::bad_inner_packet;
  }
  // RFC 4303 2.4: pad so that payload + pad + 2 is a multiple of the block
  // size (4 for GCM: the trailer is right-aligned in a 4-octet word).
  const size_t pad = transform_->padding(inner_length);
  if (inner_length + pad + 2 + transform_->icv_bytes() > buffer.size() - inner_offset) {
    return DropReason::buffer_too_small;
  }
  return std::nullopt;
}

BurstGrant Sa::reserve_burst(std::span<const size_t> lengths) {
  BurstGrant grant;
  if (config_.direction != Direction::outbound) {
    grant.drop = DropReason::wrong_direction;
    return grant;
  }
  if (expired() || lengths.empty()) return grant;
  // Unique across threads: the only synchronisation of sequence numbers.
  const uint64_t first = sequence_.fetch_add(lengths.size(), std::memory_order_relaxed) + 1;
  // RFC 4303 2.2: the counter must not cycle; the SA ends at its last number.
  const uint64_t last_allowed = config_.esn ? UINT64_MAX : UINT32_MAX;
  if (first == 0 || first > last_allowed) {
    raise(ExpireKind::hard, ExpireCause::sequence);
    grant.drop = DropReason::sequence_exhausted;
    return grant;
  }
  size_t count = lengths.size();
  if (last_allowed - first < count - 1) {
    count = static_cast<size_t>(last_allowed - first + 1);
    grant.drop = DropReason::sequence_exhausted;
  }
  if (first + count - 1 >= (config_.esn ? kSoftSequenceLimit64 : kSoftSequenceLimit32)) {
    raise(ExpireKind::soft, ExpireCause::sequence);
  }
  const size_t charged = charge(lengths.first(count));
  if (charged < count) grant.drop = DropReason::sa_expired;
  if (count < lengths.size() && first + count - 1 == last_allowed) raise(ExpireKind::hard, ExpireCause::sequence);
  grant.first_sequence = first;
  grant.granted = charged;
  return grant;
}

size_t Sa::esp_length(size_t inner_length) const {
  const size_t pad = transform_->padding(inner_length);
  return transform_->header_bytes() + inner_length + pad + 2 + transform_->icv_bytes();
}

EncapResult Sa::encapsulate(std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length) {
  if (auto bad = check_outbound(buffer, inner_offset, inner_length, false)) return encap_drop(*bad);
  const size_t length = inner_length;
  const BurstGrant grant = reserve_burst(std::span<const size_t>(&length, 1));
  if (grant.granted == 0) return encap_drop(grant.drop);
  // Checked above: the packet is sealed without a second check.
  return seal_checked(buffer.data() + inner_offset, inner_offset, inner_length, grant.first_sequence);
}

EncapResult Sa::encapsulate_reserved(std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length,
                                     uint64_t seq) {
  if (auto bad = check_outbound(buffer, inner_offset, inner_length, true)) return encap_drop(*bad);
  return seal_checked(buffer.data() + inner_offset, inner_offset, inner_length, seq);
}

EncapResult Sa::seal_checked(uint8_t* inner, size_t inner_offset, size_t inner_length, uint64_t seq) {
  const size_t slot = current_thread_slot();
  if (slot >= kMaxDataPathThreads) return encap_drop(DropReason::no_thread_slot);
  const uint8_t next_header = (inner[0] >> 4) == 4 ? kNextHeaderIpv4 : kNextHeaderIpv6;
  const size_t header = transform_->header_bytes();
  const size_t pad = transform_->padding(inner_length);
  const size_t plain_bytes = inner_length + pad + 2;

  // The trailer is written in place after the inner packet (check_outbound
  // made sure the tailroom is there).
  uint8_t* trailer = inner + inner_length;
  for (size_t i = 0; i < pad; ++i) trailer[i] = static_cast<uint8_t>(i + 1);  // RFC 4303 2.4
  trailer[pad] = static_cast<uint8_t>(pad);
  trailer[pad + 1] = next_header;

  uint8_t* esp = inner - header;
  store_be32(esp, config_.spi);
  store_be32(esp + 4, static_cast<uint32_t>(seq));  // RFC 4303 2.2.1: low 32 bits only
  if (!transform_->seal(slot, esp, plain_bytes, seq)) return encap_drop(DropReason::crypto_failure);

  EncapResult result;
  result.ok = true;
  result.esp_offset = inner_offset - header;
  result.esp_length = header + plain_bytes + transform_->icv_bytes();
  result.sequence = seq;
  return result;
}

std::optional<DropReason> Sa::parse_plaintext(const uint8_t* plain, size_t plain_bytes,
                                              DecapResult& result) const {
  const uint8_t next_header = plain[plain_bytes - 1];
  const size_t pad = plain[plain_bytes - 2];
  if (pad + 2 > plain_bytes) return DropReason::bad_pad_length;
  const size_t payload = plain_bytes - 2 - pad;
  // RFC 4303 2.4: the default padding is 1, 2, 3, ...; we only send that and
  // check it on receipt.
  const uint8_t* padding = plain + payload;
  for (size_t i = 0; i < pad; ++i) {
    if (padding[i] != static_cast<uint8_t>(i + 1)) return DropReason::bad_padding;
  }
  if (next_header == kNextHeaderDummy) return DropReason::dummy_packet;
  if (next_header != kNextHeaderIpv4 && next_header != kNextHeaderIpv6) {
    return DropReason::wrong_next_header;
  }
  if (payload == 0) return DropReason::bad_inner_packet;
  const unsigned version = plain[0] >> 4;
  if ((next_header == kNextHeaderIpv4 && version != 4) ||
      (next_header == kNextHeaderIpv6 && version != 6)) {
    return DropReason::wrong_next_header;
  }
  // The inner header carries its own length, so any TFC padding (RFC 4303
  // 2.7) after it is stripped here.
  size_t inner_length = 0;
  if (version == 4) {
    if (payload < 20) return DropReason::bad_inner_packet;
    const size_t header_length = size_t{plain[0] & 0x0fU} * 4;
    inner_length = load_be16(plain + 2);
    if (header_length < 20 || inner_length < header_length || inner_length > payload) {
      return DropReason::bad_inner_packet;
    }
  } else {
    if (payload < 40) return DropReason::bad_inner_packet;
    inner_length = 40 + size_t{load_be16(plain + 4)};
    if (inner_length > payload) return DropReason::bad_inner_packet;
  }
  result.inner_length = inner_length;
  result.inner_version = static_cast<uint8_t>(version);
  return std::nullopt;
}

DecapResult Sa::decapsulate(std::span<uint8_t> buffer) {
  DecapResult result = decapsulate_uncharged(buffer);
  if (!result.ok) return result;
  const size_t length = result.inner_length;
  if (charge_received(std::span<const size_t>(&length, 1)) == 0) return decap_drop(DropReason::sa_expired, result.sequence);
  return result;
}

size_t Sa::charge_received(std::span<const size_t> lengths) {
  if (lengths.empty()) return 0;
  const size_t granted = charge(lengths);
  if (granted < lengths.size()) count_drop(DropReason::sa_expired, lengths.size() - granted);
  return granted;
}

DecapResult Sa::decapsulate_uncharged(std::span<uint8_t> buffer) {
  if (config_.direction != Direction::inbound) return decap_drop(DropReason::wrong_direction);
  const size_t header = transform_->header_bytes();
  const size_t icv = transform_->icv_bytes();
  const size_t align = transform_->alignment();
  // At least the 2-octet trailer, rounded up to the cipher's block.
  const size_t min_cipher = align > 2 ? align : 2;
  if (buffer.size() < header + min_cipher + icv) return decap_drop(DropReason::truncated);
  if (buffer.size() > kMaxPacketBytes) return decap_drop(DropReason::oversized);
  const size_t cipher_bytes = buffer.size() - header - icv;
  if (align > 4 && cipher_bytes % align != 0) return decap_drop(DropReason::bad_block_alignment);
  if (expired()) return decap_drop(DropReason::sa_expired);
  const size_t slot = current_thread_slot();
  if (slot >= kMaxDataPathThreads) return decap_drop(DropReason::no_thread_slot);

  uint8_t* esp = buffer.data();
  const uint32_t seq_low = load_be32(esp + 4);
  uint64_t seq = seq_low;
  if (window_) {
    // RFC 4303 3.4.3: check before the ICV (cheap rejection), update after.
    std::lock_guard lock(replay_lock_);
    if (config_.esn && !window_->infer_esn(seq_low, seq)) {
      return decap_drop(DropReason::left_of_window);
    }
    const auto verdict = window_->check(seq);
    if (verdict == ReplayWindow::Verdict::replayed) return decap_drop(DropReason::replayed, seq);
    if (verdict == ReplayWindow::Verdict::left_of_window) {
      return decap_drop(DropReason::left_of_window, seq);
    }
  }

  DropReason drop = DropReason::icv_mismatch;
  if (!transform_->open(slot, esp, buffer.size(), seq, drop)) return decap_drop(drop, seq);

  if (window_) {
    // Another thread may have accepted the same number while we verified;
    // the second update decides (docs/esp-engine.md "Multi-core").
    std::lock_guard lock(replay_lock_);
    const auto verdict = window_->accept(seq);
    if (verdict == ReplayWindow::Verdict::replayed) return decap_drop(DropReason::replayed, seq);
    if (verdict == ReplayWindow::Verdict::left_of_window) return decap_drop(DropReason::left_of_window, seq);
    sequence_.store(window_->top(), std::memory_order_relaxed);
  } else {
    uint64_t top = sequence_.load(std::memory_order_relaxed);
    while (seq > top && !sequence_.compare_exchange_weak(top, seq, std::memory_order_relaxed)) {
    }
  }

  DecapResult result;
  result.sa = id_;
  result.sequence = seq;
  result.inner_offset = header;
  if (auto bad = parse_plaintext(esp + header, cipher_bytes, result)) return decap_drop(*bad, seq);
  result.ok = true;
  return result;
}

// engine.h free functions.
EncapResult encapsulate(Sa& sa, std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length) {
  return sa.encapsulate(buffer, inner_offset, inner_length);
}
BurstGrant reserve_burst(Sa& sa, std::span<const size_t> inner_lengths) { return sa.reserve_burst(inner_lengths); }
EncapResult encapsulate_reserved(Sa& sa, std::span<uint8_t> buffer, size_t inner_offset, size_t inner_length,
                                 uint64_t sequence) {
  return sa.encapsulate_reserved(buffer, inner_offset, inner_length, sequence);
}
void count_burst_drops(Sa& sa, DropReason reason, size_t packets) {
  if (packets != 0) sa.count_drop(reason, packets);
}
size_t esp_length(const Sa& sa, size_t inner_length) { return sa.esp_length(inner_length); }
DecapResult decapsulate(Sa& sa, std::span<uint8_t> buffer) { return sa.decapsulate(buffer); }
DecapResult decapsulate_uncharged(Sa& sa, std::span<uint8_t> buffer) { return sa.decapsulate_uncharged(buffer); }
size_t charge_received(Sa& sa, std::span<const size_t> inner_lengths) { return sa.charge_received(inner_lengths); }
uint32_t peek_spi(std::span<const uint8_t> esp) { return esp.size() < 4 ? 0 : load_be32(esp.data()); }
SaId sa_id(const Sa& sa) { return sa.id(); }
const SaConfig& sa_config(const Sa& sa) { return sa.config(); }
SaCounters sa_counters(const Sa& sa) { return sa.counters(); }
bool sa_expired(const Sa& sa) { return sa.expired(); }
uint64_t sa_sequence(const Sa& sa) { return sa.sequence(); }

}  // namespace ergw::xfrm::esp
