#include "xfrm/fastpath/datapath.h"

#include <pthread.h>
#include <poll.h>
#include <sched.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cerrno>
#include <cstring>

#include "xfrm/esp/engine.h"
#include "xfrm/fastpath/larval_hold.h"
#include "xfrm/fastpath/sa_batch.h"
#include "xfrm/io/esp_in_udp.h"
#include "xfrm/io/gso_segmenter.h"
#include "xfrm/io/ike_steering.h"
#include "xfrm/io/recv_batch.h"
#include "xfrm/io/send_batch.h"
#include "xfrm/io/tcp_coalescer.h"

namespace ergw::xfrm::fastpath {
namespace {

// Packets read from TUN per wake-up before the batch is sent: bounds latency
// and the arena (wireguard-go uses 128).
constexpr size_t kReadsPerBatch = 64;
constexpr size_t kTunBufferBytes = 65536 + 256;
// Encrypted packets are laid back to back here so that a segmented TSO packet
// leaves as one UDP GSO train.
constexpr size_t kArenaBytes = 2 << 20;
constexpr size_t kArenaLowWater = 512 << 10;
// Packets charged to their SAs at once (sequence numbers, packets, bytes):
// one reservation per SA per this many packets instead of one per packet.
// It also bounds how far two threads on one SA can interleave their numbers
// (docs/fastpath.md "Charging per batch").
constexpr size_t kChargeBatch = 64;
constexpr size_t kRecvSlots = 32;
constexpr size_t kRecvSlotBytes = 65536;
// Worst ESP overhead the fast path carries: IPv6 + UDP + SPI/sequence + CBC
// IV + padding + trailer + HMAC-SHA-384-192 ICV.
constexpr size_t kWorstOverhead = 40 + 8 + esp::kEspHeaderBytes + 16 + 15 + 2 + 24;

IoCounter io_counter_for(ConnectionDrop drop) {
  switch (drop) {
    case ConnectionDrop::policy_drop: return IoCounter::drop_policy;
    case ConnectionDrop::wrong_encap: return IoCounter::drop_wrong_encap;
    case ConnectionDrop::no_inbound_policy: return IoCounter::drop_no_inbound_policy;
    case ConnectionDrop::inner_selector: return IoCounter::drop_inner_selector;
    case ConnectionDrop::no_outbound_sa: break;
  }
  return IoCounter::drop_no_outbound_sa;
}

}  // namespace

int inner_mtu_for(size_t overhead, int outer_mtu) {
  if (overhead == 0) overhead = kWorstOverhead;
  return std::max(576, outer_mtu - static_cast<int>(overhead));
}

io::OuterSocket* Datapath::keep(io::OuterSocket socket) {
  std::lock_guard lock(sockets_mutex_);
  sockets_.push_back(std::make_unique<io::OuterSocket>(std::move(socket)));
  return sockets_.back().get();
}

Result<std::unique_ptr<Datapath>> Datapath::create(IpsecState& state, const DatapathOptions& options) {
  std::unique_ptr<Datapath> dp(new Datapath(state));
  dp->options_ = options;

  Result<io::TunDevice> tun = io::TunDevice::open(options.tun);
  if (!tun.ok()) return Error{tun.error()};
  dp->tun_ = std::make_unique<io::TunDevice>(std::move(tun).value());

  const size_t queues = dp->tun_->queue_count();
  for (size_t q = 0; q < queues; ++q) dp->queues_.push_back(std::make_unique<Queue>());
  for (const OuterEndpoint& ep : options.endpoints) {
    const bool udp = ep.kind == io::OuterKind::udp;
    const size_t slot = slot_of(udp, !ep.local.is_v4());
    // Raw sockets: one, shared by all queues (every raw socket would see a
    // copy of every packet). UDP: one per queue, spread by SO_REUSEPORT.
    for (size_t q = 0; q < (udp ? queues : 1); ++q) {
      io::OuterSocketOptions so;
      so.kind = ep.kind;
      so.local = ep.local;
      so.port = ep.port;
      so.reuse_port = udp && queues > 1;
      so.gso = options.udp_gso;
      so.gro = options.udp_gro;
      Result<io::OuterSocket> sock = io::OuterSocket::open(so);
      if (!sock.ok()) return Error{sock.error()};
      io::OuterSocket* kept = dp->keep(std::move(sock).value());
      if (q == 0) {
        dp->socket_report_.push_back("socket " + kept->label() + " " + kept->capabilities().describe() +
                                     (udp && queues > 1 ? " so_reuseport=yes" : ""));
      }
      if (udp) {
        dp->queues_[q]->sockets[slot].store(kept);
      } else {
        for (auto& queue : dp->queues_) queue->sockets[slot].store(kept);
      }
    }
  }
  dp->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  dp->rescan_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (dp->stop_fd_ < 0 || dp->rescan_fd_ < 0) return Error{std::string("eventfd: ") + std::strerror(errno)};
  return dp;
}

Datapath::~Datapath() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
  if (rescan_fd_ >= 0) ::close(rescan_fd_);
}

std::vector<std::string> Datapath::capability_report() const {
  std::vector<std::string> lines;
  lines.push_back("tun " + tun_->name() + " queues=" + std::to_string(tun_->queue_count()) + " " +
                  tun_->capabilities().describe());
  lines.insert(lines.end(), socket_report_.begin(), socket_report_.end());
  return lines;
}

Result<std::string> Datapath::share_ike_port(uint8_t family, uint16_t port) {
  const bool v6 = family == 6;
  io::OuterSocketOptions so;
  so.kind = io::OuterKind::udp;
  so.local = v6 ? *IpAddress::parse("::") : IpAddress();
  so.port = port;
  so.reuse_port = true;
  so.reuse_addr = true;
  so.gso = options_.udp_gso;
  so.gro = options_.udp_gro;
  // A previous socket of ours leaves the group first, so the new one binds
  // after charon's and takes index 1 (io/ike_steering.h).
  const size_t slot = slot_of(true, v6);
  if (Status s = retire_udp_slot(slot); !s.ok()) return Error{s.error()};
  Result<io::OuterSocket> sock = io::OuterSocket::open(so);
  if (!sock.ok()) return Error{sock.error()};
  if (Status s = io::attach_ike_steering(sock->fd()); !s.ok()) return Error{s.error()};
  io::OuterSocket* kept = keep(std::move(sock).value());
  for (auto& queue : queues_) {
    queue->reads_udp.store(false);
    queue->sockets[slot].store(kept);
  }
  queues_[0]->reads_udp.store(true);
  const uint64_t one = 1;
  (void)!::write(rescan_fd_, &one, sizeof(one));
  return "socket " + kept->label() + " " + kept->capabilities().describe() + " shared with charon (reuseport, IKE steering)";
}

Status Datapath::retire_udp_slot(size_t slot) {
  io::OuterSocket* old = queues_[0]->sockets[slot].load();
  if (old == nullptr) return Status::success();
  for (auto& queue : queues_) queue->sockets[slot].store(nullptr);
  // The inbound worker must stop polling the old socket before it can go:
  // a poll() in progress holds a reference to it, and the port stays bound
  // until that poll returns. Answering before then let a starting charon
  // find 4500 still taken (EADDRINUSE) whenever the worker was slow to wake.
  if (!wait_for_rescan()) {
    return Error{"releasing the old NAT-T socket: the inbound worker did not re-read its sockets within 1 s"};
  }
  // Other workers may still hold the old socket's pointer: its descriptor
  // number must stay theirs, so it is pointed at /dev/null instead of closed
  // (a send on it now fails and is counted). That drops the last reference:
  // our socket leaves the group before this returns, so a new one (or a new
  // charon's) binds.
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || ::dup2(devnull, old->fd()) < 0) {
    if (devnull >= 0) ::close(devnull);
    return Error{std::string("releasing the old NAT-T socket: ") + std::strerror(errno)};
  }
  ::close(devnull);
  return Status::success();
}

bool Datapath::wait_for_rescan() {
  const uint64_t wanted = rescan_wanted_.fetch_add(1, std::memory_order_acq_rel) + 1;
  const uint64_t one = 1;
  (void)!::write(rescan_fd_, &one, sizeof(one));
  if (threads_.empty() || stopping_.load()) return true;  // no worker polls anything
  std::unique_lock lock(rescan_mutex_);
  return rescan_done_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return rescan_done_ >= wanted; });
}

std::string Datapath::release_ike_ports() {
  std::string released;
  for (bool v6 : {false, true}) {
    const size_t slot = slot_of(true, v6);
    if (queues_[0]->sockets[slot].load() == nullptr) continue;
    Status s = retire_udp_slot(slot);
    released += std::string(v6 ? " IPv6" : " IPv4") + (s.ok() ? "" : " (" + s.error() + ")");
  }
  return released.empty() ? "a charon is starting; no NAT-T port held"
                          : "a charon is starting: NAT-T ports released for it:" + released;
}

std::vector<std::string> Datapath::start() {
  std::vector<std::string> placement;
  for (size_t q = 0; q < queues_.size(); ++q) {
    threads_.emplace_back([this, q] { run_outbound(q); });
    threads_.emplace_back([this, q] { run_inbound(q); });
  }
  if (options_.cpus.empty()) return placement;
  // Pinning matters on few cores: a worker that migrates to the core where
  // its producer or consumer runs (iperf3, the kernel's softirq work) loses
  // its cache and waits for that core (docs/fastpath.md "Thread placement").
  for (size_t k = 0; k < threads_.size(); ++k) {
    const int cpu = options_.cpus[k % options_.cpus.size()];
    const std::string name = std::string(k % 2 == 0 ? "outbound" : "inbound") + std::to_string(k / 2);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    const int rc = ::pthread_setaffinity_np(threads_[k].native_handle(), sizeof(set), &set);
    placement.push_back("worker " + name + (rc == 0 ? " cpu " + std::to_string(cpu)
                                                    : " not pinned to cpu " + std::to_string(cpu) + ": " +
                                                          std::strerror(rc)));
  }
  return placement;
}

void Datapath::stop() {
  if (!stopping_.exchange(true)) {
    const uint64_t one = 1;
    if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof(one));
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::array<uint64_t, kIoCounterCount> Datapath::io_counters() const {
  std::array<uint64_t, kIoCounterCount> total{};
  for (const auto& queue : queues_) {
    for (size_t i = 0; i < kIoCounterCount; ++i) total[i] += queue->counters.value[i].load(std::memory_order_relaxed);
  }
  return total;
}

void Datapath::send_nat_keepalives() {
  static const uint8_t kKeepalive = io::kNatKeepaliveByte;
  LocalIoCounters local;
  for (const io::SocketAddress& peer : state_.udp_peers()) {
    io::OuterSocket* sock = queues_[0]->sockets[slot_of(true, peer.family() == AF_INET6)].load();
    if (sock == nullptr || sock->fd() < 0) continue;
    if (::sendto(sock->fd(), &kKeepalive, 1, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&peer.storage),
                 peer.length) == 1) {
      local.add(IoCounter::nat_keepalives_sent);
    }
  }
  queues_[0]->counters.publish(local);
}

void Datapath::run_outbound(size_t q) {
  Queue& queue = *queues_[q];
  const io::TunQueue tun(tun_->queue_fd(q), tun_->capabilities().vnet_hdr);
  std::vector<uint8_t> in(kTunBufferBytes);
  std::vector<uint8_t> arena(kArenaBytes);
  io::SendBatch batch(256);
  io::GsoSegmenter segmenter;
  LocalIoCounters local;
  // A packet laid out in the arena (plaintext, at its final place) that
  // waits for its batch's charge before it is sealed and queued.
  struct Pending {
    esp::Sa* sa;
    const OutboundTarget* target;
    io::OuterSocket* socket;
    size_t inner_offset;
    size_t length;
  };
  std::vector<Pending> pending;
  pending.reserve(kChargeBatch);
  SaBatch charges(kChargeBatch);

  auto flush = [&] {
    if (batch.empty()) return;
    io::SendStats stats = batch.flush();
    local.add(IoCounter::outer_sent, stats.datagrams);
    local.add(IoCounter::outer_send_calls, stats.messages);
    local.add(IoCounter::outer_send_errors, stats.errors);
    local.add(IoCounter::udp_gso_fallbacks, stats.gso_fallbacks);
  };
  // One reservation per SA for the whole batch (reserve, then check the
  // lifetimes), then each granted packet is sealed with its number in the
  // order it was read. Packets not granted stay unsent (counted by SaBatch).
  auto settle = [&] {
    if (charges.empty()) return;
    charges.settle([](esp::Sa& sa, std::span<const size_t> lengths) { return esp::reserve_burst(sa, lengths); });
    for (size_t p = 0; p < pending.size(); ++p) {
      const SaBatch::Grant grant = charges.grant(p);
      if (!grant.granted) continue;
      const Pending& packet = pending[p];
      const esp::EncapResult result =
          esp::encapsulate_reserved(*packet.sa, arena, packet.inner_offset, packet.length, grant.sequence);
      if (!result.ok) continue;  // counted per SA by the engine
      const uint8_t* esp = arena.data() + result.esp_offset;
      if (!batch.add(*packet.socket, packet.target->remote, esp, result.esp_length)) {
        flush();
        (void)batch.add(*packet.socket, packet.target->remote, esp, result.esp_length);
      }
    }
    charges.clear();
    pending.clear();
  };

  pollfd fds[2] = {{tun.fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    // SAs, policies and their targets stay valid while the guard is held:
    // one lock per batch, not per packet. Everything read under it is
    // settled and queued before it is released.
    IpsecState::ReadGuard guard(state_);
    size_t cursor = esp::kEspHeadroom;
    // The arena is reused from the start only after every packet in it was
    // sealed and sent.
    auto restart_arena = [&] {
      settle();
      flush();
      cursor = esp::kEspHeadroom;
    };
    for (size_t reads = 0; reads < kReadsPerBatch; ++reads) {
      if (arena.size() - cursor < kArenaLowWater) restart_arena();
      io::VirtioNetHdr hdr;
      const long n = tun.read(hdr, in);
      if (n == 0) break;
      if (n < 0) {
        local.add(IoCounter::tun_read_errors);
        break;
      }
      local.add(IoCounter::tun_reads);
      std::span<uint8_t> packet(in.data(), static_cast<size_t>(n));
      const io::OffloadVerdict verdict = segmenter.prepare(hdr, packet);
      if (verdict != io::OffloadVerdict::kOk) {
        local.add(verdict == io::OffloadVerdict::kMalformed ? IoCounter::drop_offload_malformed
                                                            : IoCounter::drop_offload_unsupported);
        continue;
      }
      ConnectionDrop drop = ConnectionDrop::no_outbound_sa;
      ConnectionStats* connection = nullptr;
      const OutboundTarget* target = state_.choose_outbound(packet.data(), packet.size(), drop, connection);
      if (target == nullptr) {
        const unsigned version = packet[0] >> 4;
        if (version != 4 && version != 6) {
          local.add(IoCounter::drop_not_ip);
          continue;
        }
        if (connection == nullptr) {
          local.add(IoCounter::drop_no_policy);
          continue;
        }
        connection->count(drop);
        local.add(io_counter_for(drop));
        continue;
      }
      esp::Sa* sa = state_.table().find(target->sa);
      io::OuterSocket* sock = queue.sockets[slot_of(target->udp, target->v6)].load(std::memory_order_acquire);
      if (sa == nullptr || sock == nullptr) {
        local.add(IoCounter::drop_no_socket);
        continue;
      }
      if (!segmenter.single()) local.add(IoCounter::tun_gso_reads);
      const size_t segments = segmenter.segment_count();
      local.add(IoCounter::tun_segments, segments);
      // Each segment is built at its final place in the arena (sealing
      // happens in place), back to back, so a TSO packet still leaves as
      // one UDP GSO train.
      for (size_t i = 0; i < segments; ++i) {
        if (charges.full()) settle();
        const size_t length = segmenter.segment_length(i);
        if (arena.size() - cursor < target->esp_header + length + esp::kEspTailroom) restart_arena();
        const size_t inner_offset = cursor + target->esp_header;
        segmenter.build_segment(i, arena.data() + inner_offset);
        pending.push_back(Pending{sa, target, sock, inner_offset, length});
        charges.add(*sa, length);
        cursor += esp::esp_length(*sa, length);
      }
    }
    settle();
    flush();
    queue.counters.publish(local);
  }
  queue.counters.publish(local);
}

// The inbound worker of queue q, step by step: wait for the sockets, receive
// a few batches from each readable one, take every datagram apart (ESP-in-UDP,
// IKE, keepalive, raw IPv4), decrypt and check it, and hand the clear packets
// to the TUN coalescer, flushed once per wake-up.
class Datapath::InboundWorker {
 public:
  InboundWorker(Datapath& datapath, size_t q)
      : dp_(datapath),
        q_(q),
        queue_(*datapath.queues_[q]),
        tun_(datapath.tun_->queue_fd(q), datapath.tun_->capabilities().vnet_hdr),
        batch_(kRecvSlots, kRecvSlotBytes),
        coalescer_(tun_),
        charges_(kChargeBatch) {
    pending_.reserve(kChargeBatch);
  }

  void run() {
    rescan_sockets();
    while (!dp_.stopping_.load(std::memory_order_relaxed)) {
      // While ESP waits for its SA, look again every millisecond: the
      // control thread installs SAs without waking us.
      const int timeout_ms = hold_.empty() ? -1 : 1;
      if (::poll(fds_.data(), fds_.size(), timeout_ms) < 0 && errno != EINTR) break;
      if (fds_.back().revents) break;  // stop_fd
      bool must_rescan = take_rescan_request();
      {
        IpsecState::ReadGuard guard(dp_.state_);
        if (!hold_.empty()) release_held();
        for (size_t s = 0; s < polled_.size(); ++s) {
          if (fds_[s].revents & POLLNVAL) must_rescan = true;
          if (fds_[s].revents & POLLIN) receive_from(*polled_[s]);
        }
        // The coalescer copies what it holds, so the receive buffers may be
        // reused before this: one flush per wake-up lets a train that arrived
        // in two receives (a 44-datagram GSO train and its short tail) become
        // one TUN write.
        flush_tun();
      }
      queue_.counters.publish(local_);
      if (must_rescan) rescan_sockets();
    }
    flush_tun();
    queue_.counters.publish(local_);
  }

 private:
  // The sockets this worker reads: raw ones on queue 0 only, UDP where the
  // queue reads UDP; then the rescan (queue 0) and stop eventfds.
  void rescan_sockets() {
    // Read before the slots: a generation asked for after a slot changed
    // comes with that change visible.
    const uint64_t generation = dp_.rescan_wanted_.load(std::memory_order_acquire);
    fds_.clear();
    polled_.clear();
    for (size_t slot = 0; slot < kSlots; ++slot) {
      io::OuterSocket* sock = queue_.sockets[slot].load(std::memory_order_acquire);
      const bool udp = slot >= 2;
      if (sock == nullptr || sock->fd() < 0 || (udp ? !queue_.reads_udp.load() : q_ > 0)) continue;
      if (std::find(polled_.begin(), polled_.end(), sock) != polled_.end()) continue;
      fds_.push_back({sock->fd(), POLLIN, 0});
      polled_.push_back(sock);
    }
    if (q_ == 0) fds_.push_back({dp_.rescan_fd_, POLLIN, 0});
    fds_.push_back({dp_.stop_fd_, POLLIN, 0});
    if (q_ == 0) {
      std::lock_guard lock(dp_.rescan_mutex_);
      dp_.rescan_done_ = std::max(dp_.rescan_done_, generation);
      dp_.rescan_done_cv_.notify_all();
    }
  }

  // Queue 0 is told through rescan_fd when share_ike_port changed the sockets.
  bool take_rescan_request() {
    if (q_ != 0 || !fds_[fds_.size() - 2].revents) return false;
    uint64_t value = 0;
    (void)!::read(dp_.rescan_fd_, &value, sizeof(value));
    return true;
  }

  // A few batches per socket per wake-up, then the others have a turn.
  void receive_from(io::OuterSocket& sock) {
    const bool udp = sock.kind() == io::OuterKind::udp;
    for (int round = 0; round < 4; ++round) {
      const int n = batch_.receive(sock.fd());
      if (n < 0) local_.add(IoCounter::outer_recv_errors);
      if (n <= 0) break;
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        if (batch_.truncated(i)) {
          local_.add(IoCounter::drop_truncated_outer);
          continue;
        }
        if (batch_.segment_size(i) != 0) local_.add(IoCounter::outer_gro_messages);
        const sockaddr_storage* source = udp ? &batch_.source(i) : nullptr;
        batch_.for_each_datagram(i, [&](std::span<uint8_t> datagram) {
          local_.add(IoCounter::outer_received);
          if (udp) {
            handle_udp(datagram, source);
          } else {
            handle_raw(datagram, sock.ipv6());
          }
        });
      }
      // Before the next receive reuses the buffers the pending packets sit in.
      settle();
      if (static_cast<size_t>(n) < kRecvSlots) break;
    }
  }

  // RFC 3948 on port 4500: ESP, or what charon's socket should have had.
  void handle_udp(std::span<uint8_t> datagram, const sockaddr_storage* source) {
    switch (io::classify_udp_encap(datagram)) {
      case io::UdpEncapKind::kEsp:
        deliver(datagram, true, source);
        break;
      case io::UdpEncapKind::kIke:
        // charon's socket takes IKE (io/ike_steering.h); one reaches us only
        // while charon is away: never decrypted.
        local_.add(IoCounter::ike_marker_dropped);
        break;
      case io::UdpEncapKind::kKeepalive:
        local_.add(IoCounter::nat_keepalives_received);
        break;
      case io::UdpEncapKind::kMalformed:
        local_.add(IoCounter::drop_udp_malformed);
        break;
    }
  }

  // IP protocol 50: IPv4 raw sockets see the outer header (raw(7)); IPv6 ones do not.
  void handle_raw(std::span<uint8_t> datagram, bool ipv6) {
    if (!ipv6) {
      const size_t ihl = datagram.empty() ? 0 : size_t{datagram[0] & 0x0fu} * 4;
      if (datagram.size() < 20 || (datagram[0] >> 4) != 4 || ihl < 20 || ihl > datagram.size()) {
        local_.add(IoCounter::drop_raw_malformed);
        return;
      }
      datagram = datagram.subspan(ihl);
    }
    deliver(datagram, false, nullptr);
  }

  // Decrypt and verify; the packet then waits in the batch for its SA's
  // charge (settle).
  void deliver(std::span<uint8_t> esp, bool via_udp, const sockaddr_storage* source) {
    if (esp.size() < esp::kEspHeaderBytes) {
      dp_.state_.table().count_table_drop(esp::DropReason::truncated);
      return;
    }
    const uint32_t spi = esp::peek_spi(esp);
    esp::Sa* sa = dp_.state_.table().find_inbound(spi);
    if (sa == nullptr) {
      if (dp_.state_.spi_reserved(spi)) {
        if (hold_.hold(esp, via_udp, source, LarvalHold::Clock::now())) {
          local_.add(IoCounter::larval_held);
          return;
        }
        local_.add(IoCounter::larval_dropped);  // the hold is full
      }
      dp_.state_.table().count_table_drop(esp::DropReason::unknown_spi);
      return;
    }
    const esp::DecapResult result = esp::decapsulate_uncharged(*sa, esp);
    if (!result.ok) return;  // counted per SA by the engine
    if (charges_.full()) settle();
    pending_.push_back(Pending{result.sa, esp.data() + result.inner_offset, result.inner_length, via_udp, source});
    charges_.add(*sa, result.inner_length);
  }

  // ESP held for an SA that was not installed yet (larval_hold.h): those
  // whose SA is here now go through as if they had just arrived, before
  // anything newer; those that waited too long are dropped.
  void release_held() {
    const auto state_of = [this](uint32_t spi) {
      if (dp_.state_.table().find_inbound(spi) != nullptr) return LarvalHold::SpiState::installed;
      return dp_.state_.spi_reserved(spi) ? LarvalHold::SpiState::reserved : LarvalHold::SpiState::unknown;
    };
    const LarvalHold::Released released =
        hold_.release(LarvalHold::Clock::now(), state_of, [this](LarvalHold::Packet& p) {
          deliver(p.esp, p.via_udp, p.source ? &*p.source : nullptr);
        });
    settle();  // the released packets' bytes live in hold_ until discarded
    hold_.discard_released();
    local_.add(IoCounter::larval_delivered, released.delivered);
    local_.add(IoCounter::larval_dropped, released.dropped);
    for (size_t i = 0; i < released.dropped; ++i) {
      dp_.state_.table().count_table_drop(esp::DropReason::unknown_spi);
    }
  }

  // Charges each SA once for the batch's authentic packets (those beyond a
  // hard limit are dropped as sa_expired by the engine), then enforces the
  // SA's encapsulation and policies, follows a NAT rebinding, and queues the
  // clear packets for the TUN in the order they arrived.
  void settle() {
    if (charges_.empty()) return;
    charges_.settle([](esp::Sa& sa, std::span<const size_t> lengths) { return esp::charge_received(sa, lengths); });
    for (size_t p = 0; p < pending_.size(); ++p) {
      if (!charges_.grant(p).granted) continue;
      const Pending& packet = pending_[p];
      ConnectionStats* connection = nullptr;
      const InboundVerdict verdict =
          dp_.state_.check_inbound(packet.sa, packet.via_udp, packet.inner, packet.length, connection);
      if (verdict != InboundVerdict::ok) {
        const ConnectionDrop drop = verdict == InboundVerdict::wrong_encap        ? ConnectionDrop::wrong_encap
                                    : verdict == InboundVerdict::no_inbound_policy ? ConnectionDrop::no_inbound_policy
                                                                                   : ConnectionDrop::inner_selector;
        if (connection != nullptr) connection->count(drop);
        local_.add(io_counter_for(drop));
        continue;
      }
      // Only an authentic packet may move the peer's address (RFC 3948 / the
      // kernel's XFRM_MSG_MAPPING): checked after the ICV verified.
      if (packet.source != nullptr && dp_.state_.note_source(packet.sa, *packet.source)) {
        local_.add(IoCounter::nat_mappings);
      }
      coalescer_.add({packet.inner, packet.length});
    }
    charges_.clear();
    pending_.clear();
  }

  void flush_tun() {
    coalescer_.flush();
    const io::CoalesceStats stats = coalescer_.take_stats();
    local_.add(IoCounter::tun_writes, stats.writes);
    local_.add(IoCounter::tun_write_errors, stats.write_errors);
    local_.add(IoCounter::tun_gro_merged, stats.merged);
  }

  Datapath& dp_;
  const size_t q_;
  Queue& queue_;
  const io::TunQueue tun_;
  io::RecvBatch batch_;
  io::TcpCoalescer coalescer_;
  LocalIoCounters local_;
  // A decrypted packet waiting for its batch's charge; its bytes stay in
  // batch_'s buffers until the next receive.
  struct Pending {
    esp::SaId sa;
    const uint8_t* inner;
    size_t length;
    bool via_udp;
    const sockaddr_storage* source;
  };
  std::vector<Pending> pending_;
  SaBatch charges_;
  LarvalHold hold_;
  std::vector<pollfd> fds_;
  std::vector<io::OuterSocket*> polled_;
};

void Datapath::run_inbound(size_t q) { InboundWorker(*this, q).run(); }

}  // namespace ergw::xfrm::fastpath
