// What charging sequence numbers, packets and bytes costs per packet, and
// what charging them once per batch saves (docs/fastpath.md "Charging per
// batch"). Each iteration handles a batch of 64 packets of one SA, the way
// the fast path's workers do, in two ways measured side by side in the same
// run:
//   per_packet - one reservation per packet (reserve_burst of 1, or
//                decapsulate, which charges each packet): three atomic adds
//                per packet outbound, two inbound;
//   per_batch  - one reservation for the 64 (reserve_burst of 64, or
//                decapsulate_uncharged + one charge_received).
// With the null transform (no crypto: the framing and the charging alone)
// and with AES-128-GCM; with no hard limit (atomic adds) and with a hard
// packet limit (the per-SA lock); 1 and 2 threads on the same SA (the
// counters' cache line then moves between cores). At the end the binary
// prints per_packet / per_batch time ratios (medians with
// --benchmark_repetitions). Never an assertion.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/esp/counter_reporter.h"
#include "xfrm/esp/engine.h"
#include "xfrm/esp/sa_table.h"

namespace {

using namespace ergw::xfrm::esp;

constexpr size_t kBatch = 64;
constexpr size_t kHeadroom = 64;

enum class Crypto { null, gcm };
enum class Limit { none, hard };

SaConfig config_for(Direction direction, Crypto crypto, Limit limit) {
  SaConfig c;
  c.spi = 0x4343;
  c.direction = direction;
  c.local = *ergw::IpAddress::parse("192.0.2.1");
  c.remote = *ergw::IpAddress::parse("198.51.100.1");
  if (crypto == Crypto::null) {
    c.algorithm = {Encryption::null_cleartext, 0, Integrity::none};
    c.allow_null = true;
  } else {
    c.algorithm = {Encryption::aes_gcm_16, 128, Integrity::none};
    c.encryption_key.assign(16, 0x3c);
    c.gcm_salt = {1, 2, 3, 4};
  }
  // Inbound without anti-replay: the same packets are opened again and again.
  c.replay_window = 0;
  if (limit == Limit::hard) c.lifetime.hard.packets = UINT64_MAX / 2;
  return c;
}

std::vector<uint8_t> inner_packet(size_t length) {
  std::vector<uint8_t> p(length, 0x5a);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(length >> 8);
  p[3] = static_cast<uint8_t>(length);
  return p;
}

// One SA shared by the benchmark's threads (set up by thread 0).
struct Shared {
  std::unique_ptr<SaTable> table;
  SaId id = kInvalidSaId;
  std::vector<std::vector<uint8_t>> sealed;  // inbound: a batch of ESP packets
};
Shared& shared() {
  static Shared s;
  return s;
}

void set_up(Direction direction, Crypto crypto, Limit limit, size_t length) {
  Shared& s = shared();
  s.table = std::make_unique<SaTable>();
  s.id = *s.table->add(config_for(direction, crypto, limit));
  s.sealed.clear();
  if (direction == Direction::inbound) {
    SaTable sender;
    SaId out = *sender.add(config_for(Direction::outbound, crypto, Limit::none));
    std::vector<uint8_t> buffer(kHeadroom + length + kEspTailroom);
    const auto inner = inner_packet(length);
    for (size_t i = 0; i < kBatch; ++i) {
      std::memcpy(buffer.data() + kHeadroom, inner.data(), inner.size());
      const EncapResult r = sender.encapsulate(out, buffer, kHeadroom, length);
      s.sealed.emplace_back(buffer.begin() + static_cast<std::ptrdiff_t>(r.esp_offset),
                            buffer.begin() + static_cast<std::ptrdiff_t>(r.esp_offset + r.esp_length));
    }
  }
}

void outbound(benchmark::State& state, Crypto crypto, Limit limit, bool per_batch) {
  const size_t length = static_cast<size_t>(state.range(0));
  if (state.thread_index() == 0) set_up(Direction::outbound, crypto, limit, length);
  const auto inner = inner_packet(length);
  // The batch laid out back to back, as in the fast path's arena.
  const size_t stride = kHeadroom + length + kEspTailroom;
  std::vector<uint8_t> arena(kBatch * stride);
  const std::vector<size_t> lengths(kBatch, length);
  uint64_t packets = 0;
  for (auto _ : state) {
    auto lock = shared().table->read_lock();
    Sa& sa = *shared().table->find(shared().id);
    BurstGrant batch_grant;
    if (per_batch) batch_grant = reserve_burst(sa, lengths);
    for (size_t i = 0; i < kBatch; ++i) {
      uint8_t* slot = arena.data() + i * stride;
      std::memcpy(slot + kHeadroom, inner.data(), length);
      uint64_t sequence = batch_grant.first_sequence + i;
      if (!per_batch) sequence = reserve_burst(sa, std::span<const size_t>(&length, 1)).first_sequence;
      const EncapResult r = encapsulate_reserved(sa, std::span<uint8_t>(slot, stride), kHeadroom, length, sequence);
      benchmark::DoNotOptimize(r);
    }
    packets += kBatch;
  }
  state.counters["ns_per_packet"] =
      benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<int64_t>(packets));
}

void inbound(benchmark::State& state, Crypto crypto, Limit limit, bool per_batch) {
  const size_t length = static_cast<size_t>(state.range(0));
  if (state.thread_index() == 0) set_up(Direction::inbound, crypto, limit, length);
  // Wait for thread 0's packets: Google Benchmark starts the timing after
  // every thread reached the loop, so read them inside it.
  std::vector<std::vector<uint8_t>> work;
  std::vector<size_t> lengths;
  lengths.reserve(kBatch);
  uint64_t packets = 0;
  for (auto _ : state) {
    if (work.empty()) work = shared().sealed;
    auto lock = shared().table->read_lock();
    Sa& sa = *shared().table->find(shared().id);
    lengths.clear();
    for (size_t i = 0; i < kBatch; ++i) {
      std::vector<uint8_t>& esp = work[i];
      std::memcpy(esp.data(), shared().sealed[i].data(), esp.size());  // opened in place
      if (per_batch) {
        const DecapResult r = decapsulate_uncharged(sa, esp);
        if (r.ok) lengths.push_back(r.inner_length);
      } else {
        benchmark::DoNotOptimize(decapsulate(sa, esp));
      }
    }
    if (per_batch) benchmark::DoNotOptimize(charge_received(sa, lengths));
    packets += kBatch;
  }
  state.counters["ns_per_packet"] =
      benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<int64_t>(packets));
}

// Prints per_packet / per_batch (time per packet) for every pair of rows.
class RatioReporter : public ergw::bench::CounterReporter {
 public:
  RatioReporter() : CounterReporter("ns_per_packet") {}
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\ncharging per packet / charging per batch of %zu, time per packet (CPU time with one thread, wall\n"
                "time with two on one SA); > 1: the batch is cheaper\n",
                kBatch);
    std::printf("%-58s %10s %10s %7s\n", "row", "per_packet", "per_batch", "ratio");
    for (const std::string& name : rows()) {
      const size_t at = name.find("/per_packet");
      if (at == std::string::npos) continue;
      std::string batch_name = name;
      batch_name.replace(at, 11, "/per_batch");
      const double* a = value(name);
      const double* b = value(batch_name);
      if (b == nullptr || *b <= 0) continue;
      std::string row = name;
      row.erase(at, 11);
      std::printf("%-58s %8.1fns %8.1fns %7.2f\n", row.c_str(), *a * 1e9, *b * 1e9, *a / *b);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  for (Crypto crypto : {Crypto::null, Crypto::gcm}) {
    for (Limit limit : {Limit::none, Limit::hard}) {
      for (bool per_batch : {false, true}) {
        const std::string suffix = std::string(crypto == Crypto::null ? "/null" : "/aes128gcm16") +
                                   (limit == Limit::none ? "/no_limit" : "/hard_limit") +
                                   (per_batch ? "/per_batch" : "/per_packet");
        // One thread: CPU time (what preemption on a shared machine does
        // not distort). Two threads on one SA: wall time, as the contention
        // on the SA's counters is what they measure.
        for (int threads : {1, 2}) {
          for (const char* direction : {"out", "in"}) {
            auto* b = benchmark::RegisterBenchmark((direction + suffix).c_str(),
                                                   direction[0] == 'o' ? outbound : inbound, crypto, limit,
                                                   per_batch);
            b->Arg(64)->Arg(1400)->ArgName("bytes")->Threads(threads);
            if (threads > 1) b->UseRealTime();
          }
        }
      }
    }
  }
  RatioReporter reporter;
  return ergw::bench::run_benchmarks(argc, argv, reporter);
}
