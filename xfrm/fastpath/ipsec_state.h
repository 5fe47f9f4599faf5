// The fast path's IPsec state under IKE: SAs, policies and routes as charon
// (through the ergw-ipsec plugin) and ergwd install them at run time, and the
// lookups the data path makes per packet.
//
// Outbound selection: route (LPM on the inner destination -> if_id, for
// route-based connections; a route with several if_ids picks one by a hash of
// the flow - addresses, protocol, ports - so that a flow stays on one tunnel,
// and moves to another of them while its own has no outbound SA), then the out policies whose destination prefix
// contains the address, longest first (LPM again), whose if_id and source
// match; the policy's reqid names the connection, whose newest outbound SA
// carries the packet. Every step is a hash probe per prefix length in use, so
// the cost does not grow with the number of SAs or prefixes.
//
// Inbound enforcement: the decrypted packet must arrive with its SA's
// encapsulation and match an in/fwd policy of the SA's connection (RFC 4301
// 5.2); the kernel does none of this for a userspace data plane.
//
// Concurrency: the control thread changes state under the exclusive lock; the
// data path holds a ReadGuard per batch (docs/fastpath.md "Under IKE").
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <memory>
#include <shared_mutex>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "xfrm/control/requests.h"
#include "xfrm/esp/sa_table.h"
#include "xfrm/fastpath/prefix_table.h"
#include "xfrm/fastpath/sequence_store.h"
#include "xfrm/io/socket_address.h"

// X(identifier, "what it counts"): drops the fast path charges to a
// connection (the ESP engine's own reasons are counted per SA).
#define ERGW_FASTPATH_CONNECTION_DROPS(X)                                                   \
  X(no_outbound_sa, "an out policy matched but its connection has no outbound SA")         \
  X(policy_drop, "a drop policy matched the inner packet")                                  \
  X(wrong_encap, "ESP over UDP for a raw-ESP SA, or raw ESP for a UDP SA")                  \
  X(no_inbound_policy, "decrypted packet of an SA whose connection has no in policy")       \
  X(inner_selector, "decrypted packet outside its connection's selectors (RFC 4301 5.2)")

namespace ergw::xfrm::fastpath {

enum class ConnectionDrop : uint8_t {
#define ERGW_FP_X(name, text) name,
  ERGW_FASTPATH_CONNECTION_DROPS(ERGW_FP_X)
#undef ERGW_FP_X
};
inline constexpr size_t kConnectionDropCount = 0
#define ERGW_FP_X(name, text) +1
    ERGW_FASTPATH_CONNECTION_DROPS(ERGW_FP_X)
#undef ERGW_FP_X
    ;
std::string_view to_string(ConnectionDrop drop);

// Counters of one connection (one reqid, as charon names a CHILD_SA's
// lineage across rekeys): its own drops, and the totals of SAs already gone.
struct ConnectionStats {
  uint32_t reqid = 0;
  uint32_t if_id = 0;
  std::array<std::atomic<uint64_t>, kConnectionDropCount> drops{};
  // Of deleted SAs, so the totals never go backwards across rekeys.
  uint64_t retired_packets_in = 0, retired_bytes_in = 0, retired_packets_out = 0, retired_bytes_out = 0;
  std::array<uint64_t, esp::kDropReasonCount> retired_esp_drops{};
  void count(ConnectionDrop drop) { drops[static_cast<size_t>(drop)].fetch_add(1, std::memory_order_relaxed); }
};

// What the data path needs to send a packet with an outbound SA.
struct OutboundTarget {
  esp::SaId sa = esp::kInvalidSaId;
  ConnectionStats* connection = nullptr;
  size_t esp_header = 0;  // SPI + sequence + explicit IV: where the inner packet starts
  bool udp = false;
  bool v6 = false;        // outer family
  io::SocketAddress remote;
};

enum class InboundVerdict : uint8_t { ok, wrong_encap, no_inbound_policy, inner_selector };

struct ExpireEvent {
  uint32_t spi = 0;
  IpAddress dst;
  bool hard = false;
  esp::ExpireCause cause = esp::ExpireCause::seconds;
};

// ESP-in-UDP for an inbound SA arrived from another address or port than
// the SA names (a NAT rebinding): charon moves the IKE and CHILD SAs.
struct MappingEvent {
  uint32_t spi = 0;
  IpAddress dst;
  IpAddress new_src;
  uint16_t new_port = 0;
};

// Writers first: a reader arriving while a writer waits steps back, so
// control-plane changes are never starved by busy data-path threads.
class WriterFirstLock {
 public:
  void lock() {
    writers_.fetch_add(1, std::memory_order_acquire);
    mutex_.lock();
  }
  void unlock() {
    mutex_.unlock();
    writers_.fetch_sub(1, std::memory_order_release);
  }
  void lock_shared() {
    for (;;) {
      while (writers_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
      mutex_.lock_shared();
      if (writers_.load(std::memory_order_acquire) == 0) return;
      mutex_.unlock_shared();
    }
  }
  void unlock_shared() { mutex_.unlock_shared(); }

 private:
  std::atomic<int> writers_{0};
  std::shared_mutex mutex_;
};

class IpsecState {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kExpiredGrace{60};
  struct Options {
    size_t expected_sas = 1024;
    std::string sequence_file;  // empty: sequence numbers are not kept across restarts
  };

  explicit IpsecState(const Options& options);
  ~IpsecState();
  IpsecState(const IpsecState&) = delete;
  IpsecState& operator=(const IpsecState&) = delete;

  // What load of the sequence file said (empty when fine).
  const std::string& load_warning() const { return load_warning_; }

  // ---- control plane (one thread) ----
  Result<uint32_t> get_spi(const control::GetSpiRequest& request, Clock::time_point now = Clock::now());
  // Takes the keys out of `request` (its copies are wiped either way).
  Status add_sa(control::AddSaRequest& request, Clock::time_point now = Clock::now());
  Status update_sa(const control::UpdateSaRequest& request);
  struct Usage {
    uint64_t bytes = 0;
    uint64_t packets = 0;
    uint64_t use_time = 0;  // CLOCK_MONOTONIC seconds, 0 = never used
  };
  Result<Usage> query_sa(const control::SaKey& key);
  Status del_sa(const control::SaKey& key);
  void flush_sas();
  Status add_policy(const control::PolicyRequest& request);
  Status del_policy(const control::PolicyRequest& request);
  void flush_policies();
  Status add_route(const control::RouteRequest& request);
  Status del_route(const control::RouteRequest& request);
  // Once a second: time lifetimes, last-use sampling, expire events
  // (appended to `events`), sequence numbers saved.
  // SAs that stayed hard-expired for kExpiredGrace without a DEL_SA (their
  // charon died) are removed; their SPIs are appended to `collected`.
  void tick(Clock::time_point now, std::vector<ExpireEvent>& events, std::vector<MappingEvent>& mappings,
            std::vector<uint32_t>& collected);
  // Readiness and per-connection counters (docs/ipsec-protocol.md "status").
  std::string status_json() const;
  struct SaReport {
    uint32_t spi = 0;
    IpAddress dst;
    bool inbound = false;
    esp::SaCounters counters;
    uint64_t sequence = 0;
    bool expired = false;
  };
  std::vector<SaReport> sa_reports() const;
  size_t sa_count() const;
  size_t policy_count() const;
  // Outbound SAs over UDP, for NAT-keepalives: (remote address with port).
  std::vector<io::SocketAddress> udp_peers() const;
  // Largest ESP overhead of any outbound SA (0 when none), for the MTU.
  size_t worst_overhead() const;

  // ---- data path ----
  class ReadGuard {
   public:
    explicit ReadGuard(const IpsecState& state);
    ~ReadGuard();
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

   private:
    const IpsecState& state_;
    esp::SaTable::ReadLock table_lock_;
  };
  // While a ReadGuard is held: the SA for an inner packet, or nullptr with
  // `drop` set (connection may be null when no policy matched at all).
  const OutboundTarget* choose_outbound(const uint8_t* packet, size_t length, ConnectionDrop& drop,
                                        ConnectionStats*& connection) const;
  InboundVerdict check_inbound(esp::SaId sa, bool via_udp, const uint8_t* inner, size_t length,
                               ConnectionStats*& connection) const;
  // ESP-in-UDP for inbound `sa` came from `source`; a change is reported
  // once through tick(). Returns true when it was a change.
  bool note_source(esp::SaId sa, const sockaddr_storage& source) const;
  // While a ReadGuard is held: charon allocated `spi` (GETSPI) and has not
  // installed its inbound SA yet (xfrm/fastpath/larval_hold.h).
  bool spi_reserved(uint32_t spi) const { return reserved_spis_.contains(spi); }
  esp::SaTable& table() { return table_; }
  const esp::SaTable& table() const { return table_; }

 private:
  struct SaMeta;
  struct Policy;
  using PolicyList = std::vector<const Policy*>;

  SaMeta* find_meta(const control::SaKey& key);
  // The out policies of interface `if_id` (0: policy-based) for the packet.
  const OutboundTarget* select_in_interface(uint32_t if_id, bool v6, const uint8_t* src, const uint8_t* dst,
                                            ConnectionDrop& drop, ConnectionStats*& connection) const;
  ConnectionStats& connection(uint32_t reqid, uint32_t if_id);
  void retire(SaMeta& meta);
  // Copies the newest outbound SA of `reqid` into its out policies, so that
  // a packet's selection ends at the policy (fewer cache misses per packet).
  void refresh_targets(uint32_t reqid);
  // update_sa's work under the lock: the SA's addresses and its sequence record.
  Status move_sa(const control::UpdateSaRequest& request);
  SequenceStore::Key sequence_key(const SaMeta& meta) const;

  mutable WriterFirstLock lock_;
  esp::SaTable table_;
  std::vector<std::unique_ptr<SaMeta>> meta_;  // by SaId
  std::map<std::pair<uint32_t, IpAddress>, esp::SaId> by_key_;  // (spi, dst)
  std::unordered_map<uint32_t, std::vector<esp::SaId>> outbound_by_reqid_;  // oldest first
  std::unordered_map<uint32_t, Clock::time_point> reserved_spis_;
  std::map<std::string, std::unique_ptr<Policy>> policies_;
  // Out policies by interface id (0 = policy-based), then destination prefix:
  // a route-based lookup never walks the policies of other interfaces.
  std::unordered_map<uint32_t, PrefixTable<PolicyList>> out_policies_;
  std::unordered_map<uint32_t, PolicyList> in_policies_by_reqid_;
  std::unordered_map<uint32_t, std::vector<Policy*>> out_policies_by_reqid_;
  // destination -> the interface ids carrying it (several: ECMP, e.g. the two
  // tunnels of an active-active Azure gateway), in the order added.
  PrefixTable<std::vector<uint32_t>> routes_;
  std::map<uint32_t, std::unique_ptr<ConnectionStats>> connections_;  // by reqid
  SequenceStore sequences_;
  mutable std::mutex mapping_mutex_;
  mutable std::vector<MappingEvent> mappings_;
  std::string load_warning_;
  Clock::time_point last_save_{};
};

}  // namespace ergw::xfrm::fastpath
