#include "xfrm/fastpath/datapath.h"

#include <pthread.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "xfrm/esp/engine.h"
#include "xfrm/io/esp_in_udp.h"
#include "xfrm/io/gso_segmenter.h"
#include "xfrm/io/recv_batch.h"
#include "xfrm/io/send_batch.h"
#include "xfrm/io/tcp_coalescer.h"

namespace ergw::xfrm::fastpath {

struct Datapath::Endpoint {
  io::OuterKind kind;
  IpAddress local;
  uint16_t port;
};

struct Datapath::OutRoute {
  esp::SaId id;
  size_t esp_header;  // SPI + sequence + explicit IV: where the inner packet starts
  PrefixSet src;
  PrefixSet dst;
  size_t endpoint;
  io::SocketAddress remote;
};

struct Datapath::InPolicy {
  bool valid = false;
  bool udp = false;
  PrefixSet src;
  PrefixSet dst;
};

struct Datapath::Queue {
  // By endpoint index, never null: UDP sockets are this queue's own, raw ones
  // are shared by all queues (for sending) and read by queue 0 only.
  std::vector<io::OuterSocket*> sockets;
  std::vector<std::unique_ptr<io::OuterSocket>> owned;
  SharedIoCounters counters;
};

namespace {

// Packets read from TUN per wake-up before the batch is sent: bounds latency
// and the arena (wireguard-go uses 128).
constexpr size_t kReadsPerBatch = 64;
constexpr size_t kTunBufferBytes = 65536 + 256;
// Encrypted packets are laid back to back here so that a segmented TSO packet
// leaves as one UDP GSO train.
constexpr size_t kArenaBytes = 2 << 20;
constexpr size_t kArenaLowWater = 512 << 10;
constexpr size_t kRecvSlots = 32;
constexpr size_t kRecvSlotBytes = 65536;

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

}  // namespace

int inner_mtu_for(const SaFile& file, int outer_mtu) {
  size_t worst = 0;
  for (const StaticSa& sa : file.sas) {
    if (sa.config.direction != esp::Direction::outbound) continue;
    const esp::Algorithm& alg = sa.config.algorithm;
    const size_t block = alg.is_aead() ? 4 : 16;  // RFC 4303 2.4 alignment / CBC block
    const size_t overhead = (sa.config.local.is_v4() ? 20 : 40) +
                            (sa.config.encapsulation == esp::Encapsulation::udp ? 8 : 0) +
                            esp::kEspHeaderBytes + alg.iv_bytes() + (block - 1) + 2 + alg.icv_bytes();
    worst = std::max(worst, overhead);
  }
  if (worst == 0) worst = 40 + 8 + esp::kEspHeaderBytes + 16 + 15 + 2 + 24;  // no outbound SA: be safe
  return std::max(576, outer_mtu - static_cast<int>(worst));
}

Result<std::unique_ptr<Datapath>> Datapath::create(const SaFile& file, const DatapathOptions& options) {
  std::unique_ptr<Datapath> dp(new Datapath());
  dp->file_ = file;
  dp->cpus_ = options.cpus;

  for (const StaticSa& sa : file.sas) {
    Result<esp::SaId> id = dp->table_.add(sa.config);
    if (!id.ok()) return Error{"SA " + sa.name + ": " + id.error()};
    dp->sa_ids_.push_back(*id);
    if (dp->in_policies_.size() <= *id) dp->in_policies_.resize(*id + 1);

    const bool udp = sa.config.encapsulation == esp::Encapsulation::udp;
    const io::OuterKind kind = udp ? io::OuterKind::udp : io::OuterKind::raw_esp;
    const uint16_t port = udp ? sa.config.udp_local_port : 0;
    size_t endpoint = dp->endpoints_.size();
    for (size_t e = 0; e < dp->endpoints_.size(); ++e) {
      const Endpoint& ep = dp->endpoints_[e];
      if (ep.kind == kind && ep.local == sa.config.local && ep.port == port) endpoint = e;
    }
    if (endpoint == dp->endpoints_.size()) dp->endpoints_.push_back({kind, sa.config.local, port});

    if (sa.config.direction == esp::Direction::outbound) {
      OutRoute route{*id,
                     esp::kEspHeaderBytes + sa.config.algorithm.iv_bytes(),
                     PrefixSet::from(sa.selector_src),
                     PrefixSet::from(sa.selector_dst),
                     endpoint,
                     io::SocketAddress::from(sa.config.remote, udp ? sa.config.udp_remote_port : 0)};
      dp->routes_.push_back(std::move(route));
    } else {
      InPolicy& policy = dp->in_policies_[*id];
      policy.valid = true;
      policy.udp = udp;
      policy.src = PrefixSet::from(sa.selector_src);
      policy.dst = PrefixSet::from(sa.selector_dst);
    }
  }

  Result<io::TunDevice> tun = io::TunDevice::open(options.tun);
  if (!tun.ok()) return Error{tun.error()};
  dp->tun_ = std::make_unique<io::TunDevice>(std::move(tun).value());

  const size_t queues = dp->tun_->queue_count();
  dp->raw_sockets_.resize(dp->endpoints_.size());
  for (size_t q = 0; q < queues; ++q) {
    auto queue = std::make_unique<Queue>();
    queue->sockets.resize(dp->endpoints_.size(), nullptr);
    for (size_t e = 0; e < dp->endpoints_.size(); ++e) {
      const Endpoint& ep = dp->endpoints_[e];
      const bool udp = ep.kind == io::OuterKind::udp;
      if (!udp && q > 0) {
        queue->sockets[e] = dp->raw_sockets_[e].get();  // one raw socket, shared
        continue;
      }
      io::OuterSocketOptions so;
      so.kind = ep.kind;
      so.local = ep.local;
      so.port = ep.port;
      so.reuse_port = udp && queues > 1;
      so.gso = options.udp_gso;
      so.gro = options.udp_gro;
      Result<io::OuterSocket> sock = io::OuterSocket::open(so);
      if (!sock.ok()) return Error{sock.error()};
      auto owned = std::make_unique<io::OuterSocket>(std::move(sock).value());
      queue->sockets[e] = owned.get();
      if (udp) {
        queue->owned.push_back(std::move(owned));
      } else {
        dp->raw_sockets_[e] = std::move(owned);
      }
    }
    dp->queues_.push_back(std::move(queue));
  }
  dp->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (dp->stop_fd_ < 0) return Error{std::string("eventfd: ") + std::strerror(errno)};
  return dp;
}

Datapath::~Datapath() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

std::vector<std::string> Datapath::capability_report() const {
  std::vector<std::string> lines;
  lines.push_back("tun " + tun_->name() + " queues=" + std::to_string(tun_->queue_count()) + " " +
                  tun_->capabilities().describe());
  for (size_t e = 0; e < endpoints_.size(); ++e) {
    const io::OuterSocket* sock = queues_[0]->sockets[e];
    lines.push_back("socket " + sock->label() + " " + sock->capabilities().describe() +
                    (endpoints_[e].kind == io::OuterKind::udp && queues_.size() > 1 ? " so_reuseport=yes" : ""));
  }
  return lines;
}

std::vector<std::string> Datapath::start() {
  std::vector<std::string> placement;
  for (size_t q = 0; q < queues_.size(); ++q) {
    threads_.emplace_back([this, q] { run_outbound(q); });
    threads_.emplace_back([this, q] { run_inbound(q); });
  }
  if (cpus_.empty()) return placement;
  // Pinning matters on few cores: a worker that migrates to the core where
  // its producer or consumer runs (iperf3, the kernel's softirq work) loses
  // its cache and waits for that core (docs/fastpath.md "Thread placement").
  for (size_t k = 0; k < threads_.size(); ++k) {
    const int cpu = cpus_[k % cpus_.size()];
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
  if (stopping_.exchange(true)) {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    return;
  }
  const uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof(one));
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

const Datapath::OutRoute* Datapath::route(const uint8_t* packet, size_t length) const {
  bool v6 = false;
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  if (!inner_addresses(packet, length, v6, src, dst)) return nullptr;
  const OutRoute* best = nullptr;
  int best_length = -1;
  for (const OutRoute& r : routes_) {
    const int match = r.dst.longest_match(v6, dst);
    if (match > best_length && r.src.matches(v6, src)) {
      best = &r;
      best_length = match;
    }
  }
  return best;
}

void Datapath::send_nat_keepalives() {
  static const uint8_t kKeepalive = io::kNatKeepaliveByte;
  LocalIoCounters local;
  for (const OutRoute& r : routes_) {
    io::OuterSocket* sock = queues_[0]->sockets[r.endpoint];
    if (sock->kind() != io::OuterKind::udp) continue;
    if (::sendto(sock->fd(), &kKeepalive, 1, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&r.remote.storage),
                 r.remote.length) == 1) {
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

  auto flush = [&] {
    if (batch.empty()) return;
    io::SendStats stats = batch.flush();
    local.add(IoCounter::outer_sent, stats.datagrams);
    local.add(IoCounter::outer_send_calls, stats.messages);
    local.add(IoCounter::outer_send_errors, stats.errors);
    local.add(IoCounter::udp_gso_fallbacks, stats.gso_fallbacks);
  };

  pollfd fds[2] = {{tun.fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    // The engine guarantees Sa* stays valid while this lock is held; one lock
    // per batch, not per packet.
    esp::SaTable::ReadLock lock = table_.read_lock();
    size_t cursor = esp::kEspHeadroom;
    for (size_t reads = 0; reads < kReadsPerBatch; ++reads) {
      if (arena.size() - cursor < kArenaLowWater) {
        flush();
        cursor = esp::kEspHeadroom;
      }
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
      const OutRoute* r = route(packet.data(), packet.size());
      if (r == nullptr) {
        const unsigned version = packet[0] >> 4;
        local.add(version == 4 || version == 6 ? IoCounter::drop_no_outbound_sa : IoCounter::drop_not_ip);
        continue;
      }
      esp::Sa* sa = table_.find(r->id);
      if (sa == nullptr) continue;
      io::OuterSocket& sock = *queue.sockets[r->endpoint];
      if (!segmenter.single()) local.add(IoCounter::tun_gso_reads);
      const size_t segments = segmenter.segment_count();
      local.add(IoCounter::tun_segments, segments);
      for (size_t i = 0; i < segments; ++i) {
        const size_t length = segmenter.segment_length(i);
        if (arena.size() - cursor < r->esp_header + length + esp::kEspTailroom) {
          flush();
          cursor = esp::kEspHeadroom;
        }
        const size_t inner_offset = cursor + r->esp_header;
        segmenter.build_segment(i, arena.data() + inner_offset);
        const esp::EncapResult result = esp::encapsulate(*sa, arena, inner_offset, length);
        if (!result.ok) continue;  // counted per SA by the engine
        const uint8_t* esp = arena.data() + result.esp_offset;
        if (!batch.add(sock, r->remote, esp, result.esp_length)) {
          flush();
          (void)batch.add(sock, r->remote, esp, result.esp_length);
        }
        cursor = result.esp_offset + result.esp_length;
      }
    }
    flush();
    lock.unlock();
    queue.counters.publish(local);
  }
  queue.counters.publish(local);
}

void Datapath::run_inbound(size_t q) {
  Queue& queue = *queues_[q];
  const io::TunQueue tun(tun_->queue_fd(q), tun_->capabilities().vnet_hdr);
  io::RecvBatch batch(kRecvSlots, kRecvSlotBytes);
  io::TcpCoalescer coalescer(tun);
  LocalIoCounters local;

  std::vector<pollfd> fds;
  std::vector<io::OuterSocket*> polled;
  for (io::OuterSocket* sock : queue.sockets) {
    // Every raw socket receives a copy of every packet: only queue 0 reads it.
    if (sock->kind() == io::OuterKind::raw_esp && q > 0) continue;
    fds.push_back({sock->fd(), POLLIN, 0});
    polled.push_back(sock);
  }
  fds.push_back({stop_fd_, POLLIN, 0});

  auto deliver = [&](std::span<uint8_t> esp, bool via_udp) {
    const esp::DecapResult result = table_.decapsulate(esp);
    if (!result.ok) return;  // counted per SA (or as a table drop) by the engine
    const InPolicy* policy = result.sa < in_policies_.size() ? &in_policies_[result.sa] : nullptr;
    if (policy == nullptr || !policy->valid || policy->udp != via_udp) {
      local.add(IoCounter::drop_wrong_encap);
      return;
    }
    const uint8_t* inner = esp.data() + result.inner_offset;
    bool v6 = false;
    const uint8_t* src = nullptr;
    const uint8_t* dst = nullptr;
    if (!inner_addresses(inner, result.inner_length, v6, src, dst) || !policy->src.matches(v6, src) ||
        !policy->dst.matches(v6, dst)) {
      local.add(IoCounter::drop_inner_selector);
      return;
    }
    coalescer.add({inner, result.inner_length});
  };
  auto flush_tun = [&] {
    coalescer.flush();
    const io::CoalesceStats stats = coalescer.take_stats();
    local.add(IoCounter::tun_writes, stats.writes);
    local.add(IoCounter::tun_write_errors, stats.write_errors);
    local.add(IoCounter::tun_gro_merged, stats.merged);
  };

  while (!stopping_.load(std::memory_order_relaxed)) {
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    if (fds.back().revents) break;
    for (size_t s = 0; s < polled.size(); ++s) {
      if (!(fds[s].revents & POLLIN)) continue;
      io::OuterSocket& sock = *polled[s];
      const bool udp = sock.kind() == io::OuterKind::udp;
      // A few batches per socket per wake-up, then let the others have a turn.
      for (int round = 0; round < 4; ++round) {
        const int n = batch.receive(sock.fd());
        if (n < 0) local.add(IoCounter::outer_recv_errors);
        if (n <= 0) break;
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
          if (batch.truncated(i)) {
            local.add(IoCounter::drop_truncated_outer);
            continue;
          }
          if (batch.segment_size(i) != 0) local.add(IoCounter::outer_gro_messages);
          batch.for_each_datagram(i, [&](std::span<uint8_t> datagram) {
            local.add(IoCounter::outer_received);
            if (udp) {
              switch (io::classify_udp_encap(datagram)) {
                case io::UdpEncapKind::kEsp:
                  deliver(datagram, true);
                  break;
                case io::UdpEncapKind::kIke:
                  // No IKE daemon shares this socket in static-key mode: never
                  // decrypt, count and drop.
                  local.add(IoCounter::ike_marker_dropped);
                  break;
                case io::UdpEncapKind::kKeepalive:
                  local.add(IoCounter::nat_keepalives_received);
                  break;
                case io::UdpEncapKind::kMalformed:
                  local.add(IoCounter::drop_udp_malformed);
                  break;
              }
              return;
            }
            if (!sock.ipv6()) {
              // IPv4 raw sockets see the outer header (raw(7)); IPv6 ones do not.
              const size_t ihl = datagram.empty() ? 0 : size_t{datagram[0] & 0x0fu} * 4;
              if (datagram.size() < 20 || (datagram[0] >> 4) != 4 || ihl < 20 || ihl > datagram.size()) {
                local.add(IoCounter::drop_raw_malformed);
                return;
              }
              datagram = datagram.subspan(ihl);
            }
            deliver(datagram, false);
          });
        }
        if (static_cast<size_t>(n) < kRecvSlots) break;
      }
    }
    // The coalescer copies what it holds, so the receive buffers may be
    // reused before this: one flush per wake-up lets a train that arrived in
    // two receives (a 44-datagram GSO train and its short tail) become one
    // TUN write.
    flush_tun();
    queue.counters.publish(local);
  }
  flush_tun();
  queue.counters.publish(local);
}

}  // namespace ergw::xfrm::fastpath
