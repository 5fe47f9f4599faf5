// The data path allocates nothing per packet: after a warm-up packet (which
// creates this thread's cached cipher contexts), encapsulate and decapsulate
// run with zero heap allocations, counted both for C++ (operator new) and for
// OpenSSL (CRYPTO_set_mem_functions, installed before OpenSSL allocates).
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/xfrm/esp/esp_test_util.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

void* counting_malloc(size_t n, const char*, int) {
  ++g_allocations;
  return std::malloc(n);
}
void* counting_realloc(void* p, size_t n, const char*, int) {
  ++g_allocations;
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) { std::free(p); }

// Runs during static initialisation, before any OpenSSL call can allocate.
const bool g_hooks_installed = CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

}  // namespace

// Replacing the global allocation functions with malloc/free is what the
// standard allows; GCC's heuristic cannot see that both sides are replaced.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
void* counted_allocation(size_t n) {
  ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

// Every non-aligned form is replaced, so each delete meets its own new.
void* operator new(size_t n) {
  if (void* p = counted_allocation(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = counted_allocation(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_allocation(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_allocation(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace ergw::xfrm::esp {
namespace {

using namespace testing;

TEST(NoAllocation, PerPacketPathsAllocateNothing) {
  ASSERT_TRUE(g_hooks_installed) << "OpenSSL allocated before the hooks could be installed";
  for (const Algorithm& algorithm : all_algorithms()) {
    for (CryptoBackend backend : {CryptoBackend::openssl, CryptoBackend::ipsec_mb}) {
      if (!algorithm.is_aead() && backend == CryptoBackend::ipsec_mb) continue;
      if (backend == CryptoBackend::ipsec_mb && !ipsec_mb_available()) continue;
      SaTable table;
      const SaConfig out_config = make_config(algorithm, Direction::outbound, true, 0x77, backend);
      auto out_id = table.add(out_config);
      auto in_id = table.add(mirror(out_config));
      ASSERT_TRUE(out_id.ok() && in_id.ok());
      std::vector<uint8_t> buffer(64 + 1500 + kEspTailroom);
      const auto inner = inner_packet(4, 1000);
      auto one_round_trip = [&] {
        std::copy(inner.begin(), inner.end(), buffer.begin() + 64);
        const EncapResult e = table.encapsulate(*out_id, buffer, 64, inner.size());
        const DecapResult d = table.decapsulate(std::span<uint8_t>(buffer.data() + e.esp_offset, e.esp_length));
        return e.ok && d.ok;
      };
      ASSERT_TRUE(one_round_trip());  // warm-up: creates the cached contexts
      const uint64_t before = g_allocations.load();
      for (int i = 0; i < 500; ++i) ASSERT_TRUE(one_round_trip());
      EXPECT_EQ(g_allocations.load() - before, 0U) << to_string(algorithm) << " backend " << static_cast<int>(backend);
    }
  }
}

}  // namespace
}  // namespace ergw::xfrm::esp
