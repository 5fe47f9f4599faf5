#include "xfrm/fastpath/ipsec_state.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <arpa/inet.h>
#include <time.h>

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>

#include "xfrm/esp/engine.h"
#include "xfrm/fastpath/prefix_match.h"
#include "xfrm/fastpath/spi_text.h"

namespace ergw::xfrm::fastpath {
namespace {

constexpr std::array<std::string_view, kConnectionDropCount> kConnectionDropNames = {
#define ERGW_FP_X(name, text) #name,
    ERGW_FASTPATH_CONNECTION_DROPS(ERGW_FP_X)
#undef ERGW_FP_X
};

// charon's default SPI range for kernel backends (KERNEL_SPI_MIN/MAX).
constexpr uint32_t kSpiMin = 0xc0000000;
constexpr uint32_t kSpiMax = 0xcfffffff;
// A reserved SPI whose ADD_SA never came is released after this long.
constexpr auto kSpiReservation = std::chrono::minutes(5);

uint64_t monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec);
}

int64_t unix_seconds() { return static_cast<int64_t>(::time(nullptr)); }

bool inner_addresses(const uint8_t* packet, size_t length, bool& v6, const uint8_t*& src, const uint8_t*& dst) {
  if (length < 1) return false;
  const unsigned version = packet[0] >> 4;
  if (version == 4 && length >= 20) {
    v6 = false;
    src = packet + 12;
    dst = packet + 16;
    return true;
  }
  if (version == 6 && length >= 40) {
    v6 = true;
    src = packet + 8;
    dst = packet + 24;
    return true;
  }
  return false;
}

// A hash of the flow (addresses, protocol, and ports for TCP, UDP and SCTP):
// the same for every packet of a flow, so ECMP keeps a flow on one tunnel
// (no reordering). Fragments after the first have no ports; all fragments
// hash alike by leaving the ports out when the packet is a fragment.
uint64_t flow_hash(const uint8_t* packet, size_t length, bool v6) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  const auto mix = [&](const uint8_t* bytes, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  };
  size_t header = 0;
  uint8_t protocol = 0;
  bool fragment = false;
  if (v6) {
    mix(packet + 8, 32);
    protocol = packet[6];
    header = 40;
    fragment = protocol == 44;
  } else {
    mix(packet + 12, 8);
    protocol = packet[9];
    header = static_cast<size_t>(packet[0] & 0x0f) * 4;
    fragment = ((packet[6] & 0x3f) | packet[7]) != 0;  // MF or an offset
  }
  mix(&protocol, 1);
  const bool has_ports = protocol == 6 || protocol == 17 || protocol == 132;
  if (has_ports && !fragment && length >= header + 4) mix(packet + header, 4);
  // Spread the low bits (the modulo uses them).
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

void wipe(esp::SaConfig& c) {
  OPENSSL_cleanse(c.encryption_key.data(), c.encryption_key.size());
  OPENSSL_cleanse(c.integrity_key.data(), c.integrity_key.size());
  OPENSSL_cleanse(c.gcm_salt.data(), c.gcm_salt.size());
  c.encryption_key.clear();
  c.integrity_key.clear();
}

}  // namespace

std::string_view to_string(ConnectionDrop drop) {
  const auto i = static_cast<size_t>(drop);
  return i < kConnectionDropNames.size() ? kConnectionDropNames[i] : std::string_view("invalid");
}

struct IpsecState::SaMeta {
  esp::SaId id = esp::kInvalidSaId;
  control::SaKey key;
  bool inbound = false;
  bool udp = false;
  uint32_t reqid = 0;
  ConnectionStats* connection = nullptr;
  OutboundTarget target;  // outbound only
  uint64_t iv_seed = 0;
  int64_t added_unix = 0;
  io::SocketAddress peer;                      // inbound over UDP: where ESP comes from
  mutable io::SocketAddress reported_peer;     // last mapping reported (under mapping_mutex_)
  uint64_t last_packets = 0;
  uint64_t use_time = 0;
  std::optional<Clock::time_point> expired_since;
};

struct IpsecState::Policy {
  control::PolicyRequest request;
  PrefixMatch src;
  PrefixMatch dst;
  ConnectionStats* connection = nullptr;
  int references = 0;
  // Out policies: a copy of the connection's newest outbound SA's target
  // (refresh_targets), valid when has_target.
  bool has_target = false;
  OutboundTarget target;
};

void IpsecState::refresh_targets(uint32_t reqid) {
  const auto policies = out_policies_by_reqid_.find(reqid);
  if (policies == out_policies_by_reqid_.end()) return;
  const OutboundTarget* newest = nullptr;
  const auto sas = outbound_by_reqid_.find(reqid);
  if (sas != outbound_by_reqid_.end() && !sas->second.empty() && meta_[sas->second.back()]) {
    newest = &meta_[sas->second.back()]->target;
  }
  for (Policy* p : policies->second) {
    p->has_target = newest != nullptr;
    if (newest != nullptr) p->target = *newest;
  }
}

IpsecState::ReadGuard::ReadGuard(const IpsecState& state) : state_(state) {
  state_.lock_.lock_shared();
  table_lock_ = state_.table_.read_lock();
}
IpsecState::ReadGuard::~ReadGuard() {
  table_lock_.unlock();
  state_.lock_.unlock_shared();
}

IpsecState::IpsecState(const Options& options)
    : table_(options.expected_sas), sequences_(options.sequence_file) {
  if (Status s = sequences_.load(); !s.ok()) load_warning_ = s.error() + " (starting without remembered sequence numbers)";
}

IpsecState::~IpsecState() = default;

ConnectionStats& IpsecState::connection(uint32_t reqid, uint32_t if_id) {
  auto& slot = connections_[reqid];
  if (!slot) {
    slot = std::make_unique<ConnectionStats>();
    slot->reqid = reqid;
  }
  if (if_id != 0) slot->if_id = if_id;
  return *slot;
}

Result<uint32_t> IpsecState::get_spi(const control::GetSpiRequest&, Clock::time_point now) {
  std::unique_lock lock(lock_);
  for (int attempt = 0; attempt < 64; ++attempt) {
    uint32_t random = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&random), sizeof(random)) != 1) {
      return Error{"RAND_bytes failed"};
    }
    const uint32_t spi = kSpiMin + random % (kSpiMax - kSpiMin + 1);
    if (reserved_spis_.contains(spi) || table_.find_inbound(spi) != nullptr) continue;
    reserved_spis_[spi] = now;
    return spi;
  }
  return Error{"no free SPI found in 64 attempts"};
}

Status IpsecState::add_sa(control::AddSaRequest& r, Clock::time_point now) {
  struct Wipe {
    esp::SaConfig& c;
    ~Wipe() { wipe(c); }
  } wipe_on_exit{r.config};
  const bool inbound = r.config.direction == esp::Direction::inbound;
  const SequenceStore::Key skey{r.key.spi, r.key.dst, inbound};

  std::unique_lock lock(lock_);
  const auto key = std::make_pair(r.key.spi, r.key.dst);
  if (by_key_.contains(key)) {
    // A replay after our own restart that raced a live ADD_SA: already here.
    if (r.replay) return Status::success();
    return Error{"an SA with SPI " + hex32(r.key.spi) + " to " + r.key.dst.to_string() + " exists"};
  }
  if (inbound && table_.find_inbound(r.key.spi) != nullptr) {
    return Error{"an inbound SA with SPI " + hex32(r.key.spi) + " exists"};
  }

  uint64_t iv_seed = 0;
  int64_t added_unix = unix_seconds();
  Clock::time_point created = now;
  if (const SequenceRecord* prior = sequences_.find(skey)) {
    // We restarted and the plugin replays this SA: keep the IV seed, resume
    // past every sequence number it may have used, keep its age.
    iv_seed = prior->iv_seed;
    added_unix = prior->added_unix;
    created = now - std::chrono::seconds(std::max<int64_t>(0, unix_seconds() - prior->added_unix));
    uint64_t resume = inbound ? prior->sequence : prior->sequence + kSequenceSkip;
    if (!r.config.esn && resume > UINT32_MAX) resume = UINT32_MAX;  // the next packet ends it: a rekey follows
    r.config.initial_sequence = resume;
    r.config.initial_packets = prior->packets;
    r.config.initial_bytes = prior->bytes;
  } else if (RAND_bytes(reinterpret_cast<unsigned char*>(&iv_seed), sizeof(iv_seed)) != 1) {
    return Error{"RAND_bytes failed"};
  }
  r.config.iv_seed = iv_seed;
  r.config.owner_tag = r.reqid;
  // Counters go on from the larger of what we saved (at most a second old)
  // and what the client last reported to charon (it may have asked after
  // our last save): charon never sees them fall, and the byte and packet
  // lifetimes count the SA's whole life.
  r.config.initial_packets = std::max(r.config.initial_packets, r.reported_packets);
  r.config.initial_bytes = std::max(r.config.initial_bytes, r.reported_bytes);

  Result<esp::SaId> id = table_.add(r.config, created);
  if (!id.ok()) return Error{id.error()};
  if (meta_.size() <= *id) meta_.resize(*id + 1);
  auto meta = std::make_unique<SaMeta>();
  meta->id = *id;
  meta->key = r.key;
  meta->inbound = inbound;
  meta->udp = r.config.encapsulation == esp::Encapsulation::udp;
  meta->reqid = r.reqid;
  meta->connection = &connection(r.reqid, r.key.if_id);
  meta->iv_seed = iv_seed;
  meta->added_unix = added_unix;
  if (!inbound) {
    OutboundTarget& t = meta->target;
    t.sa = *id;
    t.connection = meta->connection;
    t.esp_header = esp::kEspHeaderBytes + r.config.algorithm.iv_bytes();
    t.udp = meta->udp;
    t.v6 = !r.key.dst.is_v4();
    t.remote = io::SocketAddress::from(r.key.dst, meta->udp ? r.config.udp_remote_port : 0);
    // Newest last: outbound switches to it at once (make before break).
    outbound_by_reqid_[r.reqid].push_back(*id);
  } else {
    reserved_spis_.erase(r.key.spi);
    if (meta->udp) meta->peer = meta->reported_peer = io::SocketAddress::from(r.key.src, r.config.udp_remote_port);
  }
  meta_[*id] = std::move(meta);
  by_key_[key] = *id;
  if (!inbound) refresh_targets(r.reqid);
  sequences_.put(skey, {r.config.initial_sequence, iv_seed, added_unix, r.config.initial_packets,
                        r.config.initial_bytes});
  return Status::success();
}

IpsecState::SaMeta* IpsecState::find_meta(const control::SaKey& key) {
  const auto it = by_key_.find({key.spi, key.dst});
  return it == by_key_.end() ? nullptr : meta_[it->second].get();
}

Status IpsecState::update_sa(const control::UpdateSaRequest& r) {
  if (Status s = move_sa(r); !s.ok()) return s;
  // At once, not at the next tick: the plugin replays the SA at its new
  // destination from now on, and a crash before the next save would leave
  // its sequence numbers only under the old one (the SA would restart at 1).
  // Outside the lock, like every save.
  (void)sequences_.save();
  return Status::success();
}

Status IpsecState::move_sa(const control::UpdateSaRequest& r) {
  std::unique_lock lock(lock_);
  SaMeta* meta = find_meta(r.key);
  if (meta == nullptr) return Error{"no SA with SPI " + hex32(r.key.spi) + " to " + r.key.dst.to_string()};
  const esp::SaId id = meta->id;
  // The engine's SA keeps its keys and counters; only where packets go and
  // how they are framed changes (MOBIKE, a NAT mapping).
  meta->udp = r.new_encap;
  if (meta->inbound) {
    if (r.new_encap) {
      std::lock_guard mapping(mapping_mutex_);
      meta->peer = meta->reported_peer = io::SocketAddress::from(r.new_src, r.new_src_port);
    }
  } else {
    meta->target.udp = r.new_encap;
    meta->target.v6 = !r.new_dst.is_v4();
    meta->target.remote = io::SocketAddress::from(r.new_dst, r.new_encap ? r.new_dst_port : 0);
    refresh_targets(meta->reqid);
  }
  by_key_.erase({r.key.spi, r.key.dst});
  meta->key.src = r.new_src;
  meta->key.dst = r.new_dst;
  by_key_[{r.key.spi, r.new_dst}] = id;
  const SequenceStore::Key old_key{r.key.spi, r.key.dst, meta->inbound};
  if (const SequenceRecord* record = sequences_.find(old_key)) {
    const SequenceRecord copy = *record;
    sequences_.erase(old_key);
    sequences_.put({r.key.spi, r.new_dst, meta->inbound}, copy);
  }
  return Status::success();
}

Result<IpsecState::Usage> IpsecState::query_sa(const control::SaKey& key) {
  std::unique_lock lock(lock_);
  SaMeta* meta = find_meta(key);
  if (meta == nullptr) return Error{"no SA with SPI " + hex32(key.spi) + " to " + key.dst.to_string()};
  const esp::Sa* sa = table_.find(meta->id);
  const esp::SaCounters c = esp::sa_counters(*sa);
  if (c.packets > meta->last_packets) {
    meta->last_packets = c.packets;
    meta->use_time = monotonic_seconds();
  }
  return Usage{c.bytes, c.packets, meta->use_time};
}

void IpsecState::retire(SaMeta& meta) {
  const esp::SaId id = meta.id;
  if (const esp::Sa* sa = table_.find(id)) {
    const esp::SaCounters c = esp::sa_counters(*sa);
    ConnectionStats& conn = *meta.connection;
    if (meta.inbound) {
      conn.retired_packets_in += c.packets;
      conn.retired_bytes_in += c.bytes;
    } else {
      conn.retired_packets_out += c.packets;
      conn.retired_bytes_out += c.bytes;
    }
    for (size_t i = 0; i < esp::kDropReasonCount; ++i) conn.retired_esp_drops[i] += c.drops[i];
  }
  const bool outbound = !meta.inbound;
  const uint32_t reqid = meta.reqid;
  if (outbound) {
    auto& list = outbound_by_reqid_[meta.reqid];
    list.erase(std::remove(list.begin(), list.end(), id), list.end());
    if (list.empty()) outbound_by_reqid_.erase(meta.reqid);
  }
  sequences_.erase({meta.key.spi, meta.key.dst, meta.inbound});
  by_key_.erase({meta.key.spi, meta.key.dst});
  (void)table_.remove(id);
  meta_[id].reset();
  if (outbound) refresh_targets(reqid);
}

Status IpsecState::del_sa(const control::SaKey& key) {
  std::unique_lock lock(lock_);
  SaMeta* meta = find_meta(key);
  if (meta == nullptr) {
    // charon deletes the larval SA of an SPI it reserved but never used.
    if (reserved_spis_.erase(key.spi) != 0) return Status::success();
    return Error{"no SA with SPI " + hex32(key.spi) + " to " + key.dst.to_string()};
  }
  retire(*meta);
  return Status::success();
}

void IpsecState::flush_sas() {
  std::unique_lock lock(lock_);
  for (auto& meta : meta_) {
    if (meta) retire(*meta);
  }
  reserved_spis_.clear();
}

namespace {

std::string policy_key(const control::PolicyRequest& r) {
  std::string key;
  auto put = [&key](const void* p, size_t n) { key.append(static_cast<const char*>(p), n); };
  put(&r.direction, 1);
  for (const control::TrafficSelector* ts : {&r.src_ts, &r.dst_ts}) {
    const IpAddress& a = ts->prefix.network();
    const uint8_t header[2] = {ts->protocol, static_cast<uint8_t>(ts->prefix.length())};
    put(header, 2);
    put(a.bytes().data(), a.is_v4() ? 4 : 16);
    put(&ts->from_port, 2);
    put(&ts->to_port, 2);
  }
  put(&r.mark.value, 4);
  put(&r.mark.mask, 4);
  put(&r.if_id, 4);
  return key;
}

}  // namespace

Status IpsecState::add_policy(const control::PolicyRequest& r) {
  if (!r.src_ts.any_protocol_and_port() || !r.dst_ts.any_protocol_and_port()) {
    return Error{"src_ts, dst_ts: selectors restricted to a protocol or ports are not carried by the fast path "
                 "(prefixes only)"};
  }
  std::unique_lock lock(lock_);
  const std::string key = policy_key(r);
  auto& slot = policies_[key];
  const bool fresh = !slot;
  if (fresh) slot = std::make_unique<Policy>();
  Policy& p = *slot;
  const uint32_t old_reqid = p.request.reqid;
  // A rekey re-adds the same policy for the new SA: the newest data wins.
  p.request = r;
  p.src = PrefixMatch::from(r.src_ts.prefix);
  p.dst = PrefixMatch::from(r.dst_ts.prefix);
  p.connection = r.type == control::PolicyType::ipsec ? &connection(r.reqid, r.if_id) : nullptr;
  ++p.references;

  if (r.direction == control::PolicyDirection::out) {
    if (!fresh && old_reqid != r.reqid) {
      auto& old = out_policies_by_reqid_[old_reqid];
      old.erase(std::remove(old.begin(), old.end(), &p), old.end());
    }
    auto& by_reqid = out_policies_by_reqid_[r.reqid];
    if (std::find(by_reqid.begin(), by_reqid.end(), &p) == by_reqid.end()) by_reqid.push_back(&p);
    refresh_targets(r.reqid);
    PolicyList& list = out_policies_[r.if_id][r.dst_ts.prefix];
    if (fresh) list.push_back(&p);
    // Within one destination prefix: the more specific source first, then
    // the lower priority value (as in the kernel's SPD).
    std::sort(list.begin(), list.end(), [](const Policy* a, const Policy* b) {
      if (a->src.length != b->src.length) return a->src.length > b->src.length;
      return a->request.priority < b->request.priority;
    });
  } else if (r.type == control::PolicyType::ipsec) {
    if (!fresh && old_reqid != r.reqid) {
      PolicyList& old = in_policies_by_reqid_[old_reqid];
      old.erase(std::remove(old.begin(), old.end(), &p), old.end());
    }
    PolicyList& list = in_policies_by_reqid_[r.reqid];
    if (std::find(list.begin(), list.end(), &p) == list.end()) list.push_back(&p);
  }
  return Status::success();
}

Status IpsecState::del_policy(const control::PolicyRequest& r) {
  std::unique_lock lock(lock_);
  const auto it = policies_.find(policy_key(r));
  if (it == policies_.end()) return Error{"no such policy"};
  Policy& p = *it->second;
  if (--p.references > 0) return Status::success();
  if (p.request.direction == control::PolicyDirection::out) {
    auto by_reqid = out_policies_by_reqid_.find(p.request.reqid);
    if (by_reqid != out_policies_by_reqid_.end()) {
      by_reqid->second.erase(std::remove(by_reqid->second.begin(), by_reqid->second.end(), &p), by_reqid->second.end());
      if (by_reqid->second.empty()) out_policies_by_reqid_.erase(by_reqid);
    }
    auto table = out_policies_.find(p.request.if_id);
    if (table != out_policies_.end()) {
      if (PolicyList* list = table->second.find(p.request.dst_ts.prefix)) {
        list->erase(std::remove(list->begin(), list->end(), &p), list->end());
        if (list->empty()) table->second.erase(p.request.dst_ts.prefix);
      }
      if (table->second.size() == 0) out_policies_.erase(table);
    }
  } else {
    auto in = in_policies_by_reqid_.find(p.request.reqid);
    if (in != in_policies_by_reqid_.end()) {
      in->second.erase(std::remove(in->second.begin(), in->second.end(), &p), in->second.end());
      if (in->second.empty()) in_policies_by_reqid_.erase(in);
    }
  }
  policies_.erase(it);
  return Status::success();
}

void IpsecState::flush_policies() {
  std::unique_lock lock(lock_);
  out_policies_.clear();
  in_policies_by_reqid_.clear();
  out_policies_by_reqid_.clear();
  policies_.clear();
}

Status IpsecState::add_route(const control::RouteRequest& r) {
  std::unique_lock lock(lock_);
  std::vector<uint32_t>& ids = routes_[r.prefix];
  if (std::find(ids.begin(), ids.end(), r.if_id) == ids.end()) ids.push_back(r.if_id);
  return Status::success();
}

Status IpsecState::del_route(const control::RouteRequest& r) {
  std::unique_lock lock(lock_);
  std::vector<uint32_t>* ids = routes_.find(r.prefix);
  const auto it = ids == nullptr ? std::vector<uint32_t>::iterator{} : std::find(ids->begin(), ids->end(), r.if_id);
  if (ids == nullptr || it == ids->end()) {
    return Error{"no route " + r.prefix.to_string() + " to if_id " + std::to_string(r.if_id)};
  }
  ids->erase(it);
  if (ids->empty()) routes_.erase(r.prefix);
  return Status::success();
}

bool IpsecState::note_source(esp::SaId sa, const sockaddr_storage& source) const {
  const SaMeta* meta = sa < meta_.size() ? meta_[sa].get() : nullptr;
  if (meta == nullptr || !meta->inbound || !meta->udp) return false;
  io::SocketAddress from;
  from.storage = source;
  from.length = source.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (from == meta->peer) return false;
  std::lock_guard lock(mapping_mutex_);
  if (from == meta->reported_peer) return false;
  meta->reported_peer = from;
  MappingEvent event{meta->key.spi, meta->key.dst, IpAddress(), 0};
  if (source.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&source);
    event.new_src = *IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&in->sin_addr), 4);
    event.new_port = ntohs(in->sin_port);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&source);
    event.new_src = *IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&in6->sin6_addr), 16);
    event.new_port = ntohs(in6->sin6_port);
  }
  mappings_.push_back(event);
  return true;
}

void IpsecState::tick(Clock::time_point now, std::vector<ExpireEvent>& events,
                      std::vector<MappingEvent>& mappings, std::vector<uint32_t>& collected) {
  {
    std::lock_guard lock(mapping_mutex_);
    mappings.insert(mappings.end(), mappings_.begin(), mappings_.end());
    mappings_.clear();
  }
  std::vector<esp::SaEvent> raw;
  {
    std::unique_lock lock(lock_);
    table_.expire_by_time(now);
    table_.drain_events(raw);
    const uint64_t mono = monotonic_seconds();
    for (auto& meta : meta_) {
      if (!meta) continue;
      const esp::Sa* sa = table_.find(meta->id);
      if (sa == nullptr) continue;
      const esp::SaCounters c = esp::sa_counters(*sa);
      if (c.packets > meta->last_packets) {
        meta->last_packets = c.packets;
        meta->use_time = mono;
      }
      sequences_.put({meta->key.spi, meta->key.dst, meta->inbound},
                     {esp::sa_sequence(*sa), meta->iv_seed, meta->added_unix, c.packets, c.bytes});
      if (esp::sa_expired(*sa) && !meta->expired_since) meta->expired_since = now;
    }
    // charon deletes an SA on its hard expire; one whose charon died never
    // will, and would stay forever.
    for (auto& meta : meta_) {
      if (meta && meta->expired_since && now - *meta->expired_since >= kExpiredGrace) {
        collected.push_back(meta->key.spi);
        retire(*meta);
      }
    }
    for (const esp::SaEvent& e : raw) {
      if (e.id >= meta_.size() || !meta_[e.id] || meta_[e.id]->key.spi != e.spi) continue;
      events.push_back({e.spi, meta_[e.id]->key.dst, e.kind == esp::ExpireKind::hard, e.cause});
    }
    for (auto it = reserved_spis_.begin(); it != reserved_spis_.end();) {
      it = now - it->second > kSpiReservation ? reserved_spis_.erase(it) : std::next(it);
    }
  }
  // Outside the lock: the file write never stalls the data path.
  if (!meta_.empty() || sequences_.size() != 0 || now - last_save_ > std::chrono::seconds(10)) {
    (void)sequences_.save();
    last_save_ = now;
  }
}

std::vector<IpsecState::SaReport> IpsecState::sa_reports() const {
  std::shared_lock lock(lock_);
  esp::SaTable::ReadLock table_lock = table_.read_lock();
  std::vector<SaReport> out;
  for (const auto& meta : meta_) {
    if (!meta) continue;
    const esp::Sa* sa = table_.find(meta->id);
    if (sa == nullptr) continue;
    out.push_back({meta->key.spi, meta->key.dst, meta->inbound, esp::sa_counters(*sa), esp::sa_sequence(*sa),
                   esp::sa_expired(*sa)});
  }
  return out;
}

size_t IpsecState::sa_count() const {
  std::shared_lock lock(lock_);
  return by_key_.size();
}

size_t IpsecState::policy_count() const {
  std::shared_lock lock(lock_);
  return policies_.size();
}

std::vector<io::SocketAddress> IpsecState::udp_peers() const {
  std::shared_lock lock(lock_);
  std::vector<io::SocketAddress> out;
  for (const auto& meta : meta_) {
    if (!meta || meta->inbound || !meta->target.udp) continue;
    if (std::find(out.begin(), out.end(), meta->target.remote) == out.end()) out.push_back(meta->target.remote);
  }
  return out;
}

size_t IpsecState::worst_overhead() const {
  std::shared_lock lock(lock_);
  size_t worst = 0;
  for (const auto& meta : meta_) {
    if (!meta || meta->inbound) continue;
    const esp::Sa* sa = table_.find(meta->target.sa);
    if (sa == nullptr) continue;
    const esp::Algorithm& alg = esp::sa_config(*sa).algorithm;
    const size_t block = alg.is_aead() ? 4 : 16;
    worst = std::max(worst, (meta->target.v6 ? 40 : 20) + (meta->target.udp ? 8 : 0) + esp::kEspHeaderBytes +
                                alg.iv_bytes() + (block - 1) + 2 + alg.icv_bytes());
  }
  return worst;
}

const OutboundTarget* IpsecState::choose_outbound(const uint8_t* packet, size_t length, ConnectionDrop& drop,
                                                  ConnectionStats*& connection) const {
  connection = nullptr;
  drop = ConnectionDrop::no_outbound_sa;
  bool v6 = false;
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  if (!inner_addresses(packet, length, v6, src, dst)) return nullptr;
  const std::vector<uint32_t>* routed = routes_.longest_match(v6, dst);
  if (routed == nullptr || routed->size() <= 1) {
    return select_in_interface(routed == nullptr ? 0 : routed->front(), v6, src, dst, drop, connection);
  }
  // ECMP: the flow's own tunnel first; while it has no outbound SA (down, or
  // its SA not yet installed) the next one, so that a flow fails over at
  // once, before ergwd takes the route away.
  const size_t n = routed->size();
  const size_t first = flow_hash(packet, length, v6) % n;
  const OutboundTarget* target = nullptr;
  for (size_t k = 0; k < n && target == nullptr; ++k) {
    ConnectionDrop why = ConnectionDrop::no_outbound_sa;
    ConnectionStats* stats = nullptr;
    target = select_in_interface((*routed)[(first + k) % n], v6, src, dst, why, stats);
    if (k == 0 || target != nullptr) {  // a drop is charged to the flow's own tunnel
      drop = why;
      connection = stats;
    }
    if (k == 0 && why == ConnectionDrop::policy_drop) break;  // a drop policy is meant, not a failure
  }
  return target;
}

const OutboundTarget* IpsecState::select_in_interface(uint32_t if_id, bool v6, const uint8_t* src,
                                                      const uint8_t* dst, ConnectionDrop& drop,
                                                      ConnectionStats*& connection) const {
  const OutboundTarget* target = nullptr;
  const auto table = out_policies_.find(if_id);
  if (table == out_policies_.end()) return nullptr;
  table->second.for_each_match(v6, dst, [&](const PolicyList& list, int) {
    for (const Policy* p : list) {
      if (!p->src.contains(v6, src)) continue;
      connection = p->connection;
      if (p->request.type != control::PolicyType::ipsec) {
        drop = ConnectionDrop::policy_drop;
        return true;
      }
      if (p->has_target) target = &p->target;
      return true;
    }
    return false;
  });
  return target;
}

InboundVerdict IpsecState::check_inbound(esp::SaId sa, bool via_udp, const uint8_t* inner, size_t length,
                                         ConnectionStats*& connection) const {
  connection = nullptr;
  const SaMeta* meta = sa < meta_.size() ? meta_[sa].get() : nullptr;
  if (meta == nullptr) return InboundVerdict::no_inbound_policy;
  connection = meta->connection;
  if (meta->udp != via_udp) return InboundVerdict::wrong_encap;
  const auto it = in_policies_by_reqid_.find(meta->reqid);
  if (it == in_policies_by_reqid_.end() || it->second.empty()) return InboundVerdict::no_inbound_policy;
  bool v6 = false;
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  if (!inner_addresses(inner, length, v6, src, dst)) return InboundVerdict::inner_selector;
  for (const Policy* p : it->second) {
    if (p->src.contains(v6, src) && p->dst.contains(v6, dst)) return InboundVerdict::ok;
  }
  return InboundVerdict::inner_selector;
}

std::string IpsecState::status_json() const {
  std::shared_lock lock(lock_);
  esp::SaTable::ReadLock table_lock = table_.read_lock();
  nlohmann::json doc;
  doc["ready"] = true;
  doc["sas"] = by_key_.size();
  doc["policies"] = policies_.size();
  doc["routes"] = routes_.size();
  nlohmann::json connections = nlohmann::json::array();
  for (const auto& [reqid, stats] : connections_) {
    nlohmann::json c;
    c["reqid"] = reqid;
    c["if_id"] = stats->if_id;
    uint64_t packets_in = stats->retired_packets_in, bytes_in = stats->retired_bytes_in;
    uint64_t packets_out = stats->retired_packets_out, bytes_out = stats->retired_bytes_out;
    std::array<uint64_t, esp::kDropReasonCount> esp_drops = stats->retired_esp_drops;
    nlohmann::json sas = nlohmann::json::array();
    for (const auto& meta : meta_) {
      if (!meta || meta->connection != stats.get()) continue;
      const esp::Sa* sa = table_.find(meta->id);
      if (sa == nullptr) continue;
      const esp::SaCounters counters = esp::sa_counters(*sa);
      (meta->inbound ? packets_in : packets_out) += counters.packets;
      (meta->inbound ? bytes_in : bytes_out) += counters.bytes;
      for (size_t i = 0; i < esp::kDropReasonCount; ++i) esp_drops[i] += counters.drops[i];
      sas.push_back({{"spi", hex32(meta->key.spi)},
                     {"direction", meta->inbound ? "in" : "out"},
                     {"encap", meta->udp ? "udp" : "esp"},
                     {"packets", counters.packets},
                     {"bytes", counters.bytes},
                     {"expired", esp::sa_expired(*sa)}});
    }
    c["sas"] = std::move(sas);
    c["packets_in"] = packets_in;
    c["bytes_in"] = bytes_in;
    c["packets_out"] = packets_out;
    c["bytes_out"] = bytes_out;
    nlohmann::json drops = nlohmann::json::object();
    for (size_t i = 0; i < esp::kDropReasonCount; ++i) {
      drops[std::string(esp::to_string(static_cast<esp::DropReason>(i)))] = esp_drops[i];
    }
    for (size_t i = 0; i < kConnectionDropCount; ++i) {
      drops[std::string(kConnectionDropNames[i])] = stats->drops[i].load(std::memory_order_relaxed);
    }
    c["drops"] = std::move(drops);
    connections.push_back(std::move(c));
  }
  doc["connections"] = std::move(connections);
  nlohmann::json table_drops = nlohmann::json::object();
  const auto td = table_.table_drops();
  for (size_t i = 0; i < esp::kDropReasonCount; ++i) {
    table_drops[std::string(esp::to_string(static_cast<esp::DropReason>(i)))] = td[i];
  }
  doc["table_drops"] = std::move(table_drops);
  return doc.dump();
}

}  // namespace ergw::xfrm::fastpath
