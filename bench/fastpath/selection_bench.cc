// Per-packet outbound selection in IpsecState, policy-based and route-based,
// at growing table sizes, beside a linear scan over the same prefixes (what
// the fast path did before: one comparison per SA). The claim to check: the
// cost stays flat from 10 SAs / 10 prefixes to 10,000 SAs / 1,000 prefixes.
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "xfrm/fastpath/ipsec_state.h"
#include "xfrm/fastpath/prefix_match.h"

namespace {

using namespace ergw;
using namespace ergw::xfrm;

control::AddSaRequest outbound_sa(uint32_t spi, uint32_t reqid) {
  control::AddSaRequest r;
  r.key.spi = spi;
  r.key.src = *IpAddress::parse("172.16.0.1");
  r.key.dst = IpAddress::v4(0xac100000u + (reqid % 60000) + 2);
  r.reqid = reqid;
  r.config.spi = spi;
  r.config.direction = esp::Direction::outbound;
  r.config.local = r.key.src;
  r.config.remote = r.key.dst;
  r.config.algorithm = {esp::Encryption::aes_gcm_16, 128, esp::Integrity::none};
  r.config.encryption_key.assign(16, 1);
  r.config.replay_window = 0;
  return r;
}

// Prefix i: 10.(i/256).(i%256).0/24, plus a few shorter ones so several
// lengths are in use, as in a real table.
IpPrefix prefix_for(size_t i) {
  if (i % 50 == 49) return IpPrefix(IpAddress::v4(0x0a000000u + static_cast<uint32_t>((i / 50) << 16)), 16);
  return IpPrefix(IpAddress::v4(0x0a000000u + static_cast<uint32_t>(i << 8)), 24);
}

struct Table {
  fastpath::IpsecState state{{20'000, ""}};
  std::vector<std::array<uint8_t, 20>> packets;
};

// `sas` outbound SAs over `connections` connections (several SAs each: the
// rekey overlap), `prefixes` destination prefixes spread over the connections.
std::unique_ptr<Table> build(size_t sas, size_t prefixes, bool route_based) {
  auto t = std::make_unique<Table>();
  const size_t connections = prefixes;
  for (size_t i = 0; i < sas; ++i) {
    auto r = outbound_sa(static_cast<uint32_t>(0x1000 + i), static_cast<uint32_t>(i % connections + 1));
    (void)t->state.add_sa(r);
  }
  for (size_t i = 0; i < prefixes; ++i) {
    control::PolicyRequest p;
    p.direction = control::PolicyDirection::out;
    p.src_ts = {0, IpPrefix(IpAddress(), 0), 0, 65535};
    p.reqid = static_cast<uint32_t>(i + 1);
    if (route_based) {
      p.dst_ts = {0, IpPrefix(IpAddress(), 0), 0, 65535};
      p.if_id = static_cast<uint32_t>(i + 1);
      (void)t->state.add_route({prefix_for(i), p.if_id});
    } else {
      p.dst_ts = {0, prefix_for(i), 0, 65535};
    }
    (void)t->state.add_policy(p);
  }
  std::mt19937 rng(7);
  for (int k = 0; k < 1024; ++k) {
    std::array<uint8_t, 20> h{};
    h[0] = 0x45;
    const uint32_t dst = prefix_for(rng() % prefixes).network().v4_host_order() + 1 + (rng() % 200);
    const uint32_t src = 0xc0a80a0a;
    for (int b = 0; b < 4; ++b) {
      h[12 + b] = static_cast<uint8_t>(src >> (24 - 8 * b));
      h[16 + b] = static_cast<uint8_t>(dst >> (24 - 8 * b));
    }
    t->packets.push_back(h);
  }
  return t;
}

void select(benchmark::State& s, bool route_based) {
  const auto sas = static_cast<size_t>(s.range(0));
  const auto prefixes = static_cast<size_t>(s.range(1));
  auto t = build(sas, prefixes, route_based);
  size_t i = 0, found = 0;
  fastpath::IpsecState::ReadGuard guard(t->state);
  for (auto _ : s) {
    const auto& p = t->packets[i++ & 1023];
    fastpath::ConnectionDrop drop;
    fastpath::ConnectionStats* connection = nullptr;
    const auto* target = t->state.choose_outbound(p.data(), p.size(), drop, connection);
    found += target != nullptr;
    benchmark::DoNotOptimize(target);
  }
  s.counters["found"] = static_cast<double>(found) / static_cast<double>(s.iterations());
}

void policy_based(benchmark::State& s) { select(s, false); }
void route_based(benchmark::State& s) { select(s, true); }

// The peer: the former linear scan (longest destination prefix over every
// outbound entry) on the same prefixes.
void linear_scan(benchmark::State& s) {
  const auto prefixes = static_cast<size_t>(s.range(1));
  std::vector<fastpath::PrefixSet> table;
  for (size_t i = 0; i < prefixes; ++i) table.push_back(fastpath::PrefixSet::from({prefix_for(i)}));
  auto t = build(16, prefixes, false);
  size_t i = 0;
  for (auto _ : s) {
    const auto& p = t->packets[i++ & 1023];
    int best = -1;
    size_t chosen = 0;
    for (size_t k = 0; k < table.size(); ++k) {
      const int m = table[k].longest_match(false, p.data() + 16);
      if (m > best) {
        best = m;
        chosen = k;
      }
    }
    benchmark::DoNotOptimize(chosen);
  }
}


}  // namespace

BENCHMARK(policy_based)->ArgsProduct({{10, 1000, 10000}, {10, 1000}})->ArgNames({"sas", "prefixes"});
BENCHMARK(route_based)->ArgsProduct({{10, 1000, 10000}, {10, 1000}})->ArgNames({"sas", "prefixes"});
BENCHMARK(linear_scan)->ArgsProduct({{0}, {10, 1000}})->ArgNames({"sas", "prefixes"});
BENCHMARK_MAIN();
