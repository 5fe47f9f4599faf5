// ESP engine throughput per packet size (64, 512, 1400 octets and IMIX) for
// AES-256-GCM and AES-256-CBC + HMAC-SHA-256-128, next to the raw crypto the
// engine is built on, measured in the same binary on the same buffers:
//   raw_gcm/openssl  - EVP AES-256-GCM with a cached context: set nonce, 8-octet
//                      AAD, encrypt/decrypt, tag; nothing else.
//   raw_gcm/ipsec_mb - the same with intel-ipsec-mb's direct GCM API.
// Every variant copies the packet into its working buffer first (in-place
// crypto destroys it), so the copy cancels out of the ratios. At the end the
// binary prints ESP / raw ratios. Never an assertion: read the numbers.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench/esp/counter_reporter.h"
#include "xfrm/esp/engine.h"
#include "xfrm/esp/sa_table.h"
#include "xfrm/esp/transform.h"

#ifdef ERGW_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

namespace {

using namespace ergw::xfrm::esp;

constexpr int64_t kImix = 0;
// Decryption needs a fresh packet per iteration (the replay window refuses
// repeats), so decap reads from a ring of this many packets; the raw decrypt
// peers read from a ring of the same size so both meet the same cache level
// (256 x <= 1.5 KB stays in L2).
constexpr size_t kDecapRing = 256;
// Simple IMIX (7:4:1 of 64, 576, 1500-octet IP packets).
const std::array<size_t, 12> kImixSizes = {64, 576, 64, 64, 1500, 64, 576, 64, 64, 576, 64, 576};

size_t packet_size(int64_t arg, uint64_t i) {
  return arg == kImix ? kImixSizes[i % kImixSizes.size()] : static_cast<size_t>(arg);
}

std::vector<uint8_t> inner_packet(size_t length) {
  std::vector<uint8_t> p(length);
  for (size_t i = 0; i < length; ++i) p[i] = static_cast<uint8_t>(i * 13 + 7);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(length >> 8);
  p[3] = static_cast<uint8_t>(length);
  return p;
}

Algorithm gcm256() { return {Encryption::aes_gcm_16, 256, Integrity::none}; }
Algorithm cbc256_sha256() { return {Encryption::aes_cbc, 256, Integrity::hmac_sha256_128}; }

SaConfig config_for(const Algorithm& algorithm, Direction direction, CryptoBackend backend) {
  SaConfig c;
  c.spi = 0x4242;
  c.direction = direction;
  c.local = *ergw::IpAddress::parse("192.0.2.1");
  c.remote = *ergw::IpAddress::parse("198.51.100.1");
  c.algorithm = algorithm;
  c.encryption_key.assign(algorithm.key_bytes(), 0x3c);
  c.integrity_key.assign(algorithm.integrity_key_bytes(), 0x5a);
  c.gcm_salt = {1, 2, 3, 4};
  c.esn = true;
  c.replay_window = 4096;
  c.backend = backend;
  return c;
}

void set_counters(benchmark::State& state, uint64_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["Mpps"] = benchmark::Counter(static_cast<double>(state.iterations()) / 1e6,
                                              benchmark::Counter::kIsRate);
}

struct Sizes {
  std::vector<std::vector<uint8_t>> inner;  // one per position in the size cycle
  explicit Sizes(int64_t arg) {
    for (size_t i = 0; i < (arg == kImix ? kImixSizes.size() : 1); ++i) inner.push_back(inner_packet(packet_size(arg, i)));
  }
  const std::vector<uint8_t>& at(uint64_t i) const { return inner[i % inner.size()]; }
};

// ---- ESP engine ----------------------------------------------------------

void esp_encap(benchmark::State& state, Algorithm algorithm, CryptoBackend backend) {
  SaTable table;
  auto id = table.add(config_for(algorithm, Direction::outbound, backend));
  if (!id.ok()) {
    state.SkipWithError(id.error().c_str());
    return;
  }
  auto lock = table.read_lock();
  Sa& sa = *table.find(*id);
  const Sizes sizes(state.range(0));
  std::vector<uint8_t> buffer(64 + 1500 + kEspTailroom);
  uint64_t bytes = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    const auto& inner = sizes.at(i++);
    std::memcpy(buffer.data() + 64, inner.data(), inner.size());
    const EncapResult r = encapsulate(sa, buffer, 64, inner.size());
    benchmark::DoNotOptimize(r);
    if (!r.ok) {
      state.SkipWithError("encapsulate failed");
      break;
    }
    bytes += inner.size();
  }
  set_counters(state, bytes);
}

// Creates this thread's cached cipher contexts for a fresh SA (a forged copy
// fails the ICV without touching the window), so the timed loop measures the
// steady state.
void warm_up(Sa& sa, const std::vector<uint8_t>& packet) {
  std::vector<uint8_t> forged = packet;
  forged.back() ^= 1;
  (void)decapsulate(sa, forged);
}

void esp_decap(benchmark::State& state, Algorithm algorithm, CryptoBackend backend) {
  // Pre-build a ring of valid packets with increasing sequence numbers; when
  // it is used up, start over with a fresh inbound SA (outside the timing).
  constexpr size_t kRing = kDecapRing;
  const Sizes sizes(state.range(0));
  SaTable sender;
  auto out_id = sender.add(config_for(algorithm, Direction::outbound, backend));
  if (!out_id.ok()) {
    state.SkipWithError(out_id.error().c_str());
    return;
  }
  std::vector<std::vector<uint8_t>> ring;
  std::vector<uint8_t> buffer(64 + 1500 + kEspTailroom);
  for (size_t i = 0; i < kRing; ++i) {
    const auto& inner = sizes.at(i);
    std::memcpy(buffer.data() + 64, inner.data(), inner.size());
    const EncapResult r = sender.encapsulate(*out_id, buffer, 64, inner.size());
    ring.emplace_back(buffer.begin() + static_cast<std::ptrdiff_t>(r.esp_offset),
                      buffer.begin() + static_cast<std::ptrdiff_t>(r.esp_offset + r.esp_length));
  }
  auto receiver = std::make_unique<SaTable>();
  auto in_id = receiver->add(config_for(algorithm, Direction::inbound, backend));
  Sa* sa = receiver->find(*in_id);
  warm_up(*sa, ring[0]);
  uint64_t bytes = 0;
  size_t next = 0;
  for (auto _ : state) {
    if (next == kRing) {
      state.PauseTiming();
      receiver = std::make_unique<SaTable>();
      in_id = receiver->add(config_for(algorithm, Direction::inbound, backend));
      sa = receiver->find(*in_id);
      warm_up(*sa, ring[0]);
      next = 0;
      state.ResumeTiming();
    }
    const auto& packet = ring[next++];
    std::memcpy(buffer.data(), packet.data(), packet.size());
    const DecapResult r = decapsulate(*sa, std::span<uint8_t>(buffer.data(), packet.size()));
    benchmark::DoNotOptimize(r);
    if (!r.ok) {
      state.SkipWithError(to_string(r.drop).data());
      break;
    }
    bytes += r.inner_length;
  }
  set_counters(state, bytes);
}

// Several threads encapsulating on ONE outbound SA (the atomic sequence
// number and counters are then shared cache lines), to compare with one thread.
SaTable* g_shared_table = nullptr;
SaId g_shared_id = kInvalidSaId;

void esp_encap_shared_sa(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_shared_table = new SaTable();
    g_shared_id = *g_shared_table->add(config_for(gcm256(), Direction::outbound, CryptoBackend::automatic));
  }
  const auto inner = inner_packet(static_cast<size_t>(state.range(0)));
  std::vector<uint8_t> buffer(64 + 1500 + kEspTailroom);
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::memcpy(buffer.data() + 64, inner.data(), inner.size());
    const EncapResult r = g_shared_table->encapsulate(g_shared_id, buffer, 64, inner.size());
    benchmark::DoNotOptimize(r);
    bytes += inner.size();
  }
  set_counters(state, bytes);
  if (state.thread_index() == 0) {
    delete g_shared_table;
    g_shared_table = nullptr;
  }
}

// ---- raw crypto peers ----------------------------------------------------

void raw_gcm_openssl(benchmark::State& state, bool encrypt) {
  const Sizes sizes(state.range(0));
  std::array<uint8_t, 32> key{};
  key.fill(0x3c);
  std::array<uint8_t, 12> nonce{};
  std::array<uint8_t, 8> aad{};
  std::array<uint8_t, 16> tag{};
  std::vector<uint8_t> buffer(64 + 1500 + kEspTailroom);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr, 1);
  // For decryption, precompute a ring of ciphertexts and tags (the same ring
  // size as esp_decap's, so both read their input from the same cache level).
  std::vector<std::array<uint8_t, 16>> tags;
  std::vector<std::vector<uint8_t>> inputs;
  for (size_t k = 0; k < (encrypt ? sizes.inner.size() : kDecapRing); ++k) inputs.push_back(sizes.at(k));
  if (!encrypt) {
    for (auto& inner : inputs) {
      int len = 0;
      std::memcpy(buffer.data(), inner.data(), inner.size());
      EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), 1);
      EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
      EVP_CipherUpdate(ctx, buffer.data(), &len, buffer.data(), static_cast<int>(inner.size()));
      EVP_CipherFinal_ex(ctx, buffer.data() + inner.size(), &len);
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data());
      tags.push_back(tag);
      std::memcpy(inner.data(), buffer.data(), inner.size());
    }
    EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nullptr, 0);
  }
  uint64_t bytes = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    const size_t which = i++ % inputs.size();
    const auto& inner = inputs[which];
    std::memcpy(buffer.data(), inner.data(), inner.size());
    int len = 0;
    EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), encrypt ? 1 : 0);
    if (!encrypt) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tags[which].data());
    EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
    EVP_CipherUpdate(ctx, buffer.data(), &len, buffer.data(), static_cast<int>(inner.size()));
    if (EVP_CipherFinal_ex(ctx, buffer.data() + inner.size(), &len) != 1) {
      state.SkipWithError("EVP final failed");
      break;
    }
    if (encrypt) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data());
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(tag);
    bytes += inner.size();
  }
  EVP_CIPHER_CTX_free(ctx);
  set_counters(state, bytes);
}

#ifdef ERGW_HAVE_IPSEC_MB
void raw_gcm_ipsec_mb(benchmark::State& state, bool encrypt) {
  const Sizes sizes(state.range(0));
  IMB_MGR* mgr = alloc_mb_mgr(0);
  init_mb_mgr_auto(mgr, nullptr);
  alignas(64) static gcm_key_data key_data;
  std::array<uint8_t, 32> key{};
  key.fill(0x3c);
  IMB_AES256_GCM_PRE(mgr, key.data(), &key_data);
  std::array<uint8_t, 12> nonce{};
  std::array<uint8_t, 8> aad{};
  std::array<uint8_t, 16> tag{};
  std::vector<uint8_t> buffer(64 + 1500 + kEspTailroom);
  std::vector<std::vector<uint8_t>> inputs;
  for (size_t k = 0; k < (encrypt ? sizes.inner.size() : kDecapRing); ++k) inputs.push_back(sizes.at(k));
  uint64_t bytes = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    const auto& inner = inputs[i++ % inputs.size()];
    std::memcpy(buffer.data(), inner.data(), inner.size());
    gcm_context_data ctx;
    if (encrypt) {
      IMB_AES256_GCM_ENC(mgr, &key_data, &ctx, buffer.data(), buffer.data(), inner.size(), nonce.data(),
                         aad.data(), aad.size(), tag.data(), tag.size());
    } else {
      IMB_AES256_GCM_DEC(mgr, &key_data, &ctx, buffer.data(), buffer.data(), inner.size(), nonce.data(),
                         aad.data(), aad.size(), tag.data(), tag.size());
    }
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(tag);
    bytes += inner.size();
  }
  free_mb_mgr(mgr);
  set_counters(state, bytes);
}
#endif

void size_args(benchmark::internal::Benchmark* b) {
  b->Arg(64)->Arg(512)->Arg(1400)->Arg(kImix)->ArgName("bytes");
}

// ---- a reporter that also prints ESP / raw ratios --------------------------

class RatioReporter : public ergw::bench::CounterReporter {
 public:
  RatioReporter() : CounterReporter("bytes_per_second") {}
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nESP throughput as a share of raw AES-256-GCM (same binary, same buffers, one core)\n");
    std::printf("%-44s %-34s %8s\n", "measured", "raw peer", "ratio");
    for (const std::string size : {"64", "512", "1400", "0"}) {
      const std::string label = size == "0" ? "IMIX" : size;
      ratio("esp_encap/aes256gcm16/openssl/bytes:" + size, "raw_gcm_encrypt/openssl/bytes:" + size, label);
      ratio("esp_decap/aes256gcm16/openssl/bytes:" + size, "raw_gcm_decrypt/openssl/bytes:" + size, label);
      ratio("esp_encap/aes256gcm16/ipsec_mb/bytes:" + size, "raw_gcm_encrypt/openssl/bytes:" + size, label);
      ratio("esp_decap/aes256gcm16/ipsec_mb/bytes:" + size, "raw_gcm_decrypt/openssl/bytes:" + size, label);
      ratio("raw_gcm_encrypt/ipsec_mb/bytes:" + size, "raw_gcm_encrypt/openssl/bytes:" + size, label);
      ratio("raw_gcm_decrypt/ipsec_mb/bytes:" + size, "raw_gcm_decrypt/openssl/bytes:" + size, label);
      ratio("esp_encap/aes256gcm16/ipsec_mb/bytes:" + size, "raw_gcm_encrypt/ipsec_mb/bytes:" + size, label);
      ratio("esp_decap/aes256gcm16/ipsec_mb/bytes:" + size, "raw_gcm_decrypt/ipsec_mb/bytes:" + size, label);
      ratio("esp_encap/aes256-sha256/openssl/bytes:" + size, "raw_gcm_encrypt/openssl/bytes:" + size, label);
      ratio("esp_decap/aes256-sha256/openssl/bytes:" + size, "raw_gcm_decrypt/openssl/bytes:" + size, label);
    }
  }

 private:
  void ratio(const std::string& esp, const std::string& raw, const std::string& label) {
    const double* a = value(esp);
    const double* b = value(raw);
    if (a == nullptr || b == nullptr || *b <= 0) return;
    std::string shown_esp = esp.substr(0, esp.rfind('/')) + " " + label;
    std::string shown_raw = raw.substr(0, raw.rfind('/'));
    std::printf("%-44s %-34s %7.1f%%\n", shown_esp.c_str(), shown_raw.c_str(), 100.0 * *a / *b);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("raw_gcm_encrypt/openssl", raw_gcm_openssl, true)->Apply(size_args);
  benchmark::RegisterBenchmark("raw_gcm_decrypt/openssl", raw_gcm_openssl, false)->Apply(size_args);
#ifdef ERGW_HAVE_IPSEC_MB
  benchmark::RegisterBenchmark("raw_gcm_encrypt/ipsec_mb", raw_gcm_ipsec_mb, true)->Apply(size_args);
  benchmark::RegisterBenchmark("raw_gcm_decrypt/ipsec_mb", raw_gcm_ipsec_mb, false)->Apply(size_args);
#endif
  std::vector<CryptoBackend> gcm_backends{CryptoBackend::openssl};
  if (ipsec_mb_available()) gcm_backends.push_back(CryptoBackend::ipsec_mb);
  for (CryptoBackend backend : gcm_backends) {
    const std::string b = backend == CryptoBackend::openssl ? "openssl" : "ipsec_mb";
    benchmark::RegisterBenchmark(("esp_encap/aes256gcm16/" + b).c_str(), esp_encap, gcm256(), backend)
        ->Apply(size_args);
    benchmark::RegisterBenchmark(("esp_decap/aes256gcm16/" + b).c_str(), esp_decap, gcm256(), backend)
        ->Apply(size_args);
  }
  benchmark::RegisterBenchmark("esp_encap/aes256-sha256/openssl", esp_encap, cbc256_sha256(), CryptoBackend::openssl)
      ->Apply(size_args);
  benchmark::RegisterBenchmark("esp_decap/aes256-sha256/openssl", esp_decap, cbc256_sha256(), CryptoBackend::openssl)
      ->Apply(size_args);

  // Through SaTable::encapsulate (reader lock per packet), 1 and 2 threads on
  // one SA, default backend; the counters are per thread (multiply by threads).
  benchmark::RegisterBenchmark("esp_encap_one_sa_threads/aes256gcm16/auto", esp_encap_shared_sa)
      ->Arg(64)
      ->Arg(1400)
      ->ArgName("bytes")
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();

  RatioReporter reporter;
  return ergw::bench::run_benchmarks(argc, argv, reporter);
}
