#include "xfrm/esp/sa_table.h"

#include <openssl/rand.h>

#include <atomic>
#include <unordered_map>

#include "xfrm/esp/sa.h"
#include "xfrm/esp/transform.h"

namespace ergw::xfrm::esp {

struct SaTable::Impl {
  std::vector<std::unique_ptr<Sa>> by_id;  // index = SaId; null = free
  std::vector<SaId> free_ids;
  std::unordered_map<uint32_t, SaId> inbound_by_spi;
  std::array<std::atomic<uint64_t>, kDropReasonCount> table_drops{};

  // Events: bounded, preallocated, so posting from the data path never allocates.
  std::mutex event_mutex;
  std::vector<SaEvent> events;
  size_t event_capacity = 0;
  uint64_t events_lost = 0;
  EventCallback callback;
};

SaTable::SaTable(size_t expected_sas) : impl_(std::make_unique<Impl>()) {
  impl_->by_id.reserve(expected_sas);
  impl_->inbound_by_spi.reserve(expected_sas);
  // Each SA raises at most one soft and one hard event.
  impl_->event_capacity = 2 * expected_sas + 64;
  impl_->events.reserve(impl_->event_capacity);
}

SaTable::~SaTable() = default;

Result<SaId> SaTable::add(const SaConfig& config, Clock::time_point now) {
  if (Status valid = validate(config); !valid.ok()) return Error{valid.error()};
  uint64_t iv_seed = 0;
  if (config.iv_seed) {
    iv_seed = *config.iv_seed;
  } else if (RAND_bytes(reinterpret_cast<unsigned char*>(&iv_seed), sizeof iv_seed) != 1) {
    return Error{"RAND_bytes failed while creating SA"};
  }
  auto transform = make_transform(config, iv_seed);
  if (!transform.ok()) return Error{transform.error()};

  std::unique_lock lock(mutex_);
  if (config.direction == Direction::inbound && impl_->inbound_by_spi.contains(config.spi)) {
    return Error{"an inbound SA with SPI " + std::to_string(config.spi) + " already exists"};
  }
  SaId id;
  if (!impl_->free_ids.empty()) {
    id = impl_->free_ids.back();
    impl_->free_ids.pop_back();
  } else {
    if (impl_->by_id.size() >= kInvalidSaId) return Error{"SA table is full"};
    id = static_cast<SaId>(impl_->by_id.size());
    impl_->by_id.emplace_back();
  }
  impl_->by_id[id] = std::make_unique<Sa>(id, config, std::move(transform).value(), this, now);
  if (config.direction == Direction::inbound) impl_->inbound_by_spi.emplace(config.spi, id);
  if (impl_->event_capacity < 2 * (impl_->by_id.size() - impl_->free_ids.size()) + 64) {
    std::lock_guard events(impl_->event_mutex);
    impl_->event_capacity *= 2;
    impl_->events.reserve(impl_->event_capacity);
  }
  return id;
}

Status SaTable::remove(SaId id) {
  std::unique_ptr<Sa> victim;
  {
    std::unique_lock lock(mutex_);
    if (id >= impl_->by_id.size() || !impl_->by_id[id]) {
      return Error{"no SA with id " + std::to_string(id)};
    }
    victim = std::move(impl_->by_id[id]);
    if (victim->config().direction == Direction::inbound) impl_->inbound_by_spi.erase(victim->config().spi);
    impl_->free_ids.push_back(id);
  }
  return Status::success();
}

size_t SaTable::size() const {
  ReadLock lock(mutex_);
  return impl_->by_id.size() - impl_->free_ids.size();
}

Sa* SaTable::find_inbound(uint32_t spi) const {
  const auto it = impl_->inbound_by_spi.find(spi);
  return it == impl_->inbound_by_spi.end() ? nullptr : impl_->by_id[it->second].get();
}

Sa* SaTable::find(SaId id) const {
  return id < impl_->by_id.size() ? impl_->by_id[id].get() : nullptr;
}

DecapResult SaTable::decapsulate(std::span<uint8_t> esp) {
  DecapResult result;
  if (esp.size() < kEspHeaderBytes) {
    impl_->table_drops[static_cast<size_t>(DropReason::truncated)].fetch_add(1, std::memory_order_relaxed);
    result.drop = DropReason::truncated;
    return result;
  }
  ReadLock lock(mutex_);
  Sa* sa = find_inbound(peek_spi(esp));
  if (sa == nullptr) {
    impl_->table_drops[static_cast<size_t>(DropReason::unknown_spi)].fetch_add(1, std::memory_order_relaxed);
    result.drop = DropReason::unknown_spi;
    return result;
  }
  return sa->decapsulate(esp);
}

EncapResult SaTable::encapsulate(SaId outbound, std::span<uint8_t> buffer, size_t inner_offset,
                                 size_t inner_length) {
  ReadLock lock(mutex_);
  Sa* sa = find(outbound);
  if (sa == nullptr) {
    // An SA that was removed behaves like an expired one.
    impl_->table_drops[static_cast<size_t>(DropReason::sa_expired)].fetch_add(1, std::memory_order_relaxed);
    EncapResult result;
    result.drop = DropReason::sa_expired;
    return result;
  }
  return sa->encapsulate(buffer, inner_offset, inner_length);
}

std::array<uint64_t, kDropReasonCount> SaTable::table_drops() const {
  std::array<uint64_t, kDropReasonCount> out{};
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    out[i] = impl_->table_drops[i].load(std::memory_order_relaxed);
  }
  return out;
}

void SaTable::count_table_drop(DropReason reason) {
  impl_->table_drops[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void SaTable::expire_by_time(Clock::time_point now) {
  ReadLock lock(mutex_);
  for (const auto& sa : impl_->by_id) {
    if (sa) sa->expire_by_time(now);
  }
}

void SaTable::set_event_callback(EventCallback callback) {
  std::lock_guard lock(impl_->event_mutex);
  impl_->callback = std::move(callback);
}

void SaTable::post_event(const SaEvent& event) {
  std::lock_guard lock(impl_->event_mutex);
  if (impl_->events.size() < impl_->event_capacity) {
    impl_->events.push_back(event);
  } else {
    ++impl_->events_lost;
  }
  if (impl_->callback) impl_->callback(event);
}

size_t SaTable::drain_events(std::vector<SaEvent>& out) {
  std::lock_guard lock(impl_->event_mutex);
  const size_t n = impl_->events.size();
  out.insert(out.end(), impl_->events.begin(), impl_->events.end());
  impl_->events.clear();  // keeps the reserved capacity
  return n;
}

uint64_t SaTable::events_lost() const {
  std::lock_guard lock(impl_->event_mutex);
  return impl_->events_lost;
}

}  // namespace ergw::xfrm::esp
