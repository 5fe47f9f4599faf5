#include "xfrm/fastpath/sa_batch.h"

#include <gtest/gtest.h>

#include <vector>

#include "xfrm/esp/sa_table.h"

namespace ergw::xfrm::fastpath {
namespace {

esp::SaConfig outbound(uint32_t spi, uint64_t hard_packets = 0) {
  esp::SaConfig c;
  c.spi = spi;
  c.direction = esp::Direction::outbound;
  c.local = *IpAddress::parse("192.0.2.1");
  c.remote = *IpAddress::parse("192.0.2.2");
  c.algorithm = {esp::Encryption::aes_gcm_16, 128, esp::Integrity::none};
  c.encryption_key.assign(16, 0x11);
  c.replay_window = 0;
  c.lifetime.hard.packets = hard_packets;
  return c;
}

// Two SAs interleaved in one batch: one reservation each, numbers in the
// order the packets were added, and a hard limit that cuts only its own SA.
TEST(SaBatch, ChargesEachSaOnceAndNumbersItsPacketsInOrder) {
  esp::SaTable table;
  auto a = table.add(outbound(0x1001));
  auto b = table.add(outbound(0x1002, 2));
  ASSERT_TRUE(a.ok() && b.ok());
  auto lock = table.read_lock();
  esp::Sa& sa_a = *table.find(*a);
  esp::Sa& sa_b = *table.find(*b);

  SaBatch batch(8);
  std::vector<size_t> index;
  for (esp::Sa* sa : {&sa_a, &sa_b, &sa_a, &sa_b, &sa_b, &sa_a}) index.push_back(batch.add(*sa, 100));
  EXPECT_EQ(batch.size(), 6U);
  int reservations = 0;
  batch.settle([&](esp::Sa& sa, std::span<const size_t> lengths) {
    ++reservations;
    EXPECT_EQ(lengths.size(), 3U);
    return esp::reserve_burst(sa, lengths);
  });
  EXPECT_EQ(reservations, 2);
  const uint64_t expected_a[] = {1, 2, 3};
  size_t next_a = 0;
  for (size_t i : {index[0], index[2], index[5]}) {
    const SaBatch::Grant g = batch.grant(i);
    EXPECT_TRUE(g.granted);
    EXPECT_EQ(g.sequence, expected_a[next_a++]);
  }
  EXPECT_TRUE(batch.grant(index[1]).granted);
  EXPECT_EQ(batch.grant(index[1]).sequence, 1U);
  EXPECT_TRUE(batch.grant(index[3]).granted);
  EXPECT_FALSE(batch.grant(index[4]).granted) << "SA b's hard limit is 2 packets";
  EXPECT_EQ(esp::sa_counters(sa_b).drop_count(esp::DropReason::sa_expired), 1U) << "counted once, by settle";
  EXPECT_EQ(esp::sa_counters(sa_a).packets, 3U);

  batch.clear();
  EXPECT_TRUE(batch.empty());
  batch.add(sa_a, 50);
  batch.settle([](esp::Sa& sa, std::span<const size_t> lengths) { return esp::reserve_burst(sa, lengths); });
  EXPECT_EQ(batch.grant(0).sequence, 4U) << "the next batch goes on where this one ended";
}

TEST(SaBatch, FullAtCapacity) {
  esp::SaTable table;
  auto a = table.add(outbound(0x2001));
  ASSERT_TRUE(a.ok());
  auto lock = table.read_lock();
  SaBatch batch(2);
  batch.add(*table.find(*a), 10);
  EXPECT_FALSE(batch.full());
  batch.add(*table.find(*a), 10);
  EXPECT_TRUE(batch.full());
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
