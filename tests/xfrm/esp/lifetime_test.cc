// Soft/hard lifetimes in packets, bytes and seconds raise events once and end
// the SA; sequence exhaustion without ESN is a hard expiry, never a wrap.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "tests/xfrm/esp/esp_test_util.h"

namespace ergw::xfrm::esp {
namespace {

using namespace testing;

const Algorithm kGcm256{Encryption::aes_gcm_16, 256, Integrity::none};

EncapResult send(SaTable& table, SaId id, size_t length = 100) {
  PacketBuffer buffer(inner_packet(4, length));
  return table.encapsulate(id, buffer.span(), buffer.inner_offset, buffer.inner_length);
}

TEST(Lifetime, PacketLimitsRaiseSoftThenHardOnce) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, false);
  config.owner_tag = 77;
  config.lifetime.soft.packets = 3;
  config.lifetime.hard.packets = 5;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  std::atomic<int> callbacks{0};
  table.set_event_callback([&](const SaEvent&) { ++callbacks; });

  std::vector<SaEvent> events;
  for (int i = 1; i <= 2; ++i) EXPECT_TRUE(send(table, *id).ok);
  EXPECT_EQ(table.drain_events(events), 0U);
  EXPECT_TRUE(send(table, *id).ok);  // 3rd: soft
  ASSERT_EQ(table.drain_events(events), 1U);
  EXPECT_EQ(events[0].kind, ExpireKind::soft);
  EXPECT_EQ(events[0].cause, ExpireCause::packets);
  EXPECT_EQ(events[0].owner_tag, 77U);
  EXPECT_EQ(events[0].spi, config.spi);
  EXPECT_EQ(events[0].direction, Direction::outbound);
  EXPECT_TRUE(send(table, *id).ok);
  EXPECT_TRUE(send(table, *id).ok);  // 5th: the last one carried, hard event
  events.clear();
  ASSERT_EQ(table.drain_events(events), 1U);
  EXPECT_EQ(events[0].kind, ExpireKind::hard);
  const EncapResult sixth = send(table, *id);
  EXPECT_FALSE(sixth.ok);
  EXPECT_EQ(sixth.drop, DropReason::sa_expired);
  events.clear();
  EXPECT_EQ(table.drain_events(events), 0U) << "events fire once";
  EXPECT_EQ(callbacks.load(), 2);
  auto lock = table.read_lock();
  const Sa& sa = *table.find(*id);
  EXPECT_TRUE(sa_expired(sa));
  EXPECT_EQ(sa_counters(sa).packets, 5U);
  EXPECT_EQ(sa_counters(sa).drop_count(DropReason::sa_expired), 1U);
}

// The fast path charges the segments of a TSO packet as one burst: one
// reservation, consecutive sequence numbers, and the hard limit still falls
// on exactly the packet that reaches it.
TEST(Lifetime, BurstGrantsUpToTheHardLimitWithConsecutiveNumbers) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, false);
  config.lifetime.soft.packets = 4;
  config.lifetime.hard.packets = 7;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  auto lock = table.read_lock();
  Sa& sa = *table.find(*id);
  const std::vector<size_t> five(5, 100);
  BurstGrant first = reserve_burst(sa, five);
  EXPECT_EQ(first.granted, 5U);
  EXPECT_EQ(first.first_sequence, 1U);
  for (size_t i = 0; i < first.granted; ++i) {
    PacketBuffer buffer(inner_packet(4, 100));
    const EncapResult r =
        encapsulate_reserved(sa, buffer.span(), buffer.inner_offset, buffer.inner_length, first.first_sequence + i);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.sequence, i + 1);
  }
  BurstGrant second = reserve_burst(sa, five);
  EXPECT_EQ(second.granted, 2U) << "packets 6 and 7; 7 reaches the hard limit and is the last one";
  EXPECT_EQ(second.first_sequence, 6U);
  EXPECT_EQ(second.drop, DropReason::sa_expired);
  count_burst_drops(sa, second.drop, 3);
  for (size_t i = 0; i < second.granted; ++i) {
    PacketBuffer buffer(inner_packet(4, 100));
    EXPECT_TRUE(encapsulate_reserved(sa, buffer.span(), buffer.inner_offset, buffer.inner_length,
                                     second.first_sequence + i)
                    .ok)
        << "a granted packet is carried even though its burst ended the SA";
  }
  EXPECT_TRUE(sa_expired(sa));
  EXPECT_EQ(sa_counters(sa).packets, 7U);
  EXPECT_EQ(sa_counters(sa).bytes, 700U);
  EXPECT_EQ(sa_counters(sa).drop_count(DropReason::sa_expired), 3U);
  EXPECT_EQ(reserve_burst(sa, five).granted, 0U);
  lock.unlock();
  std::vector<SaEvent> events;
  ASSERT_EQ(table.drain_events(events), 2U);
  EXPECT_EQ(events[0].kind, ExpireKind::soft);
  EXPECT_EQ(events[1].kind, ExpireKind::hard);
}

TEST(Lifetime, BurstStopsBeforeThePacketThatWouldPassTheHardByteLimit) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, false);
  config.lifetime.hard.bytes = 250;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  auto lock = table.read_lock();
  Sa& sa = *table.find(*id);
  const std::vector<size_t> lengths{100, 100, 100, 100};
  const BurstGrant grant = reserve_burst(sa, lengths);
  EXPECT_EQ(grant.granted, 2U) << "the third packet would take the SA to 300 > 250 bytes";
  EXPECT_EQ(grant.drop, DropReason::sa_expired);
  EXPECT_EQ(sa_counters(sa).bytes, 200U) << "no byte beyond the hard limit is counted or carried";
  EXPECT_TRUE(sa_expired(sa));
  EXPECT_EQ(reserve_burst(sa, std::vector<size_t>{20}).granted, 0U) << "not even a packet that would still fit";
}

// The edges of charging a whole batch at once (docs/fastpath.md "Charging
// per batch"): what one-packet-at-a-time charging would do, with one
// reservation.
struct BatchFixture {
  SaTable table;
  SaId id = kInvalidSaId;
  std::vector<SaEvent> events;

  explicit BatchFixture(const Lifetime& lifetime, Direction direction = Direction::outbound, bool esn = false,
                        uint64_t initial_sequence = 0) {
    SaConfig config = make_config(kGcm256, direction, esn);
    config.lifetime = lifetime;
    config.initial_sequence = initial_sequence;
    auto added = table.add(config);
    EXPECT_TRUE(added.ok());
    id = *added;
  }
  Sa& sa() { return *table.find(id); }
  std::vector<SaEvent> drain() {
    events.clear();
    table.drain_events(events);
    return events;
  }
};

Lifetime limits(uint64_t soft_packets, uint64_t hard_packets, uint64_t soft_bytes = 0, uint64_t hard_bytes = 0) {
  Lifetime l;
  l.soft.packets = soft_packets;
  l.hard.packets = hard_packets;
  l.soft.bytes = soft_bytes;
  l.hard.bytes = hard_bytes;
  return l;
}

TEST(BatchCharge, SoftLimitCrossedInsideABatchRaisesOneSoftEvent) {
  BatchFixture f(limits(10, 0, 0, 0));
  auto lock = f.table.read_lock();
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(8, 100)).granted, 8U);
  lock.unlock();
  EXPECT_TRUE(f.drain().empty());
  lock.lock();
  const BurstGrant grant = reserve_burst(f.sa(), std::vector<size_t>(8, 100));
  EXPECT_EQ(grant.granted, 8U) << "a soft limit never refuses a packet";
  EXPECT_EQ(grant.first_sequence, 9U);
  lock.unlock();
  auto events = f.drain();
  ASSERT_EQ(events.size(), 1U) << "packet 10 lies inside the second batch";
  EXPECT_EQ(events[0].kind, ExpireKind::soft);
  EXPECT_EQ(events[0].cause, ExpireCause::packets);
  lock.lock();
  EXPECT_FALSE(sa_expired(f.sa()));
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(8, 100)).granted, 8U);
  lock.unlock();
  EXPECT_TRUE(f.drain().empty()) << "once per SA";
}

TEST(BatchCharge, SoftByteLimitCrossedInsideABatch) {
  BatchFixture f(limits(0, 0, 1000, 0));
  auto lock = f.table.read_lock();
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(6, 150)).granted, 6U);  // 900
  lock.unlock();
  EXPECT_TRUE(f.drain().empty());
  lock.lock();
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(3, 150)).granted, 3U);  // 1350
  lock.unlock();
  auto events = f.drain();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].cause, ExpireCause::bytes);
}

TEST(BatchCharge, HardPacketLimitReachedExactlyByABatch) {
  BatchFixture f(limits(0, 16));
  auto lock = f.table.read_lock();
  const BurstGrant grant = reserve_burst(f.sa(), std::vector<size_t>(16, 100));
  EXPECT_EQ(grant.granted, 16U) << "the batch that reaches the limit exactly is carried whole";
  EXPECT_TRUE(sa_expired(f.sa())) << "and the SA ends with it";
  EXPECT_EQ(sa_counters(f.sa()).packets, 16U);
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(1, 100)).granted, 0U);
  EXPECT_EQ(sa_counters(f.sa()).packets, 16U);
  lock.unlock();
  auto events = f.drain();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, ExpireKind::hard);
}

TEST(BatchCharge, HardByteLimitReachedExactlyByABatch) {
  BatchFixture f(limits(0, 0, 0, 1000));
  auto lock = f.table.read_lock();
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(10, 100)).granted, 10U);
  EXPECT_EQ(sa_counters(f.sa()).bytes, 1000U);
  EXPECT_TRUE(sa_expired(f.sa()));
}

TEST(BatchCharge, BatchLargerThanWhatIsLeftGetsTheFirstPacketsThatFit) {
  BatchFixture f(limits(5, 20));
  auto lock = f.table.read_lock();
  EXPECT_EQ(reserve_burst(f.sa(), std::vector<size_t>(14, 100)).granted, 14U);
  const BurstGrant grant = reserve_burst(f.sa(), std::vector<size_t>(64, 100));
  EXPECT_EQ(grant.granted, 6U) << "20 - 14 left";
  EXPECT_EQ(grant.first_sequence, 15U) << "numbers follow on from the last batch: nothing skipped before";
  EXPECT_EQ(grant.drop, DropReason::sa_expired);
  for (size_t i = 0; i < grant.granted; ++i) {
    PacketBuffer buffer(inner_packet(4, 100));
    const EncapResult r = encapsulate_reserved(f.sa(), buffer.span(), buffer.inner_offset, buffer.inner_length,
                                               grant.first_sequence + i);
    ASSERT_TRUE(r.ok) << "a granted packet is sealed even though its batch ended the SA";
    EXPECT_EQ(r.sequence, 15U + i);
  }
  EXPECT_EQ(sa_counters(f.sa()).packets, 20U);
  EXPECT_EQ(sa_counters(f.sa()).bytes, 2000U);
  EXPECT_TRUE(sa_expired(f.sa()));
}

TEST(BatchCharge, MixedLengthsStopAtTheFirstPacketThatDoesNotFit) {
  BatchFixture f(limits(0, 0, 0, 1000));
  auto lock = f.table.read_lock();
  const std::vector<size_t> lengths{400, 400, 300, 60};
  const BurstGrant grant = reserve_burst(f.sa(), lengths);
  EXPECT_EQ(grant.granted, 2U) << "300 would pass 1000; the 60 after it is not carried either (order is kept)";
  EXPECT_EQ(sa_counters(f.sa()).bytes, 800U);
}

TEST(BatchCharge, HardLimitAcrossThreadsIsNeverPassed) {
  BatchFixture f(limits(0, 1000, 0, 0));
  std::atomic<uint64_t> granted{0};
  std::vector<std::thread> threads;
  std::mutex sequences_mutex;
  std::vector<uint64_t> sequences;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 40; ++round) {
        auto lock = f.table.read_lock();
        const BurstGrant grant = reserve_burst(f.sa(), std::vector<size_t>(13, 100));
        granted += grant.granted;
        std::lock_guard guard(sequences_mutex);
        for (size_t i = 0; i < grant.granted; ++i) sequences.push_back(grant.first_sequence + i);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000U);
  auto lock = f.table.read_lock();
  EXPECT_EQ(sa_counters(f.sa()).packets, 1000U);
  EXPECT_EQ(sa_counters(f.sa()).bytes, 100000U);
  std::sort(sequences.begin(), sequences.end());
  EXPECT_EQ(std::adjacent_find(sequences.begin(), sequences.end()), sequences.end()) << "no number used twice";
}

TEST(BatchCharge, EsnBatchAcrossThe32BitBoundaryKeepsConsecutiveNumbers) {
  BatchFixture f(Lifetime{}, Direction::outbound, true, 0xFFFFFFF0ULL);
  auto lock = f.table.read_lock();
  const BurstGrant grant = reserve_burst(f.sa(), std::vector<size_t>(64, 100));
  ASSERT_EQ(grant.granted, 64U);
  EXPECT_EQ(grant.first_sequence, 0xFFFFFFF1ULL);
  PacketBuffer buffer(inner_packet(4, 100));
  const EncapResult r = encapsulate_reserved(f.sa(), buffer.span(), buffer.inner_offset, buffer.inner_length,
                                             grant.first_sequence + 20);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.sequence, 0x100000005ULL);
}

TEST(BatchCharge, WithoutEsnABatchStopsAtTheLastNumber) {
  BatchFixture f(Lifetime{}, Direction::outbound, false, 0xFFFFFFF0ULL);
  auto lock = f.table.read_lock();
  const BurstGrant grant = reserve_burst(f.sa(), std::vector<size_t>(64, 100));
  EXPECT_EQ(grant.granted, 15U) << "0xFFFFFFF1 .. 0xFFFFFFFF";
  EXPECT_EQ(grant.drop, DropReason::sequence_exhausted);
  EXPECT_TRUE(sa_expired(f.sa()));
  EXPECT_EQ(sa_counters(f.sa()).packets, 15U);
}

TEST(BatchCharge, InboundBatchChargesOnlyWhatFitsAndCountsTheRest) {
  BatchFixture f(limits(0, 5), Direction::inbound);
  auto lock = f.table.read_lock();
  EXPECT_EQ(charge_received(f.sa(), std::vector<size_t>(3, 100)), 3U);
  EXPECT_EQ(charge_received(f.sa(), std::vector<size_t>(4, 100)), 2U);
  EXPECT_EQ(sa_counters(f.sa()).packets, 5U);
  EXPECT_EQ(sa_counters(f.sa()).drop_count(DropReason::sa_expired), 2U);
  EXPECT_TRUE(sa_expired(f.sa()));
}

TEST(BatchCharge, CountersResumeFromAnEarlierLife) {
  Lifetime lifetime = limits(0, 100, 0, 0);
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, false);
  config.lifetime = lifetime;
  config.initial_packets = 95;
  config.initial_bytes = 9500;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  auto lock = table.read_lock();
  Sa& sa = *table.find(*id);
  EXPECT_EQ(sa_counters(sa).packets, 95U);
  EXPECT_EQ(reserve_burst(sa, std::vector<size_t>(10, 100)).granted, 5U) << "the hard limit counts the earlier life";
  EXPECT_EQ(sa_counters(sa).bytes, 10000U);
}

TEST(Lifetime, ByteLimitsCountInnerBytes) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, false);
  config.lifetime.soft.bytes = 250;
  config.lifetime.hard.bytes = 400;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  std::vector<SaEvent> events;
  EXPECT_TRUE(send(table, *id, 200).ok);
  EXPECT_EQ(table.drain_events(events), 0U);
  EXPECT_TRUE(send(table, *id, 200).ok);  // 400 >= soft and == hard
  ASSERT_EQ(table.drain_events(events), 2U);
  EXPECT_EQ(send(table, *id, 20).drop, DropReason::sa_expired);
  auto lock = table.read_lock();
  EXPECT_EQ(sa_counters(*table.find(*id)).bytes, 400U);
}

TEST(Lifetime, InboundCountsOnlyAuthenticPackets) {
  SaTable table;
  SaConfig out_config = make_config(kGcm256, Direction::outbound, false);
  SaConfig in_config = mirror(out_config);
  in_config.lifetime.hard.packets = 2;
  auto out_id = table.add(out_config);
  auto in_id = table.add(in_config);
  ASSERT_TRUE(out_id.ok() && in_id.ok());
  std::vector<std::vector<uint8_t>> packets;
  for (int i = 0; i < 3; ++i) {
    PacketBuffer buffer(inner_packet(4, 100));
    const EncapResult e = table.encapsulate(*out_id, buffer.span(), buffer.inner_offset, buffer.inner_length);
    packets.emplace_back(buffer.bytes.begin() + static_cast<std::ptrdiff_t>(e.esp_offset),
                         buffer.bytes.begin() + static_cast<std::ptrdiff_t>(e.esp_offset + e.esp_length));
  }
  auto forged = packets[0];
  forged.back() ^= 1;
  EXPECT_EQ(table.decapsulate(forged).drop, DropReason::icv_mismatch);
  EXPECT_TRUE(table.decapsulate(packets[0]).ok);
  EXPECT_TRUE(table.decapsulate(packets[1]).ok);
  EXPECT_EQ(table.decapsulate(packets[2]).drop, DropReason::sa_expired);
}

TEST(Lifetime, SecondsAreCheckedByTheControlPlaneTick) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::inbound, false);
  config.lifetime.soft.seconds = 10;
  config.lifetime.hard.seconds = 20;
  const auto t0 = SaTable::Clock::now();
  auto id = table.add(config, t0);
  ASSERT_TRUE(id.ok());
  std::vector<SaEvent> events;
  table.expire_by_time(t0 + std::chrono::seconds(9));
  EXPECT_EQ(table.drain_events(events), 0U);
  table.expire_by_time(t0 + std::chrono::seconds(10));
  table.expire_by_time(t0 + std::chrono::seconds(11));
  ASSERT_EQ(table.drain_events(events), 1U);
  EXPECT_EQ(events[0].cause, ExpireCause::seconds);
  EXPECT_EQ(events[0].kind, ExpireKind::soft);
  table.expire_by_time(t0 + std::chrono::seconds(25));
  events.clear();
  ASSERT_EQ(table.drain_events(events), 1U);
  EXPECT_EQ(events[0].kind, ExpireKind::hard);
  auto lock = table.read_lock();
  EXPECT_TRUE(sa_expired(*table.find(*id)));
}

TEST(Lifetime, SequenceExhaustionWithoutEsnEndsTheSa) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, false);
  config.initial_sequence = 0xFFFFFFFEULL;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  const EncapResult last = send(table, *id);
  ASSERT_TRUE(last.ok);
  EXPECT_EQ(last.sequence, 0xFFFFFFFFULL);
  const EncapResult next = send(table, *id);
  EXPECT_FALSE(next.ok);
  EXPECT_EQ(next.drop, DropReason::sequence_exhausted);
  EXPECT_EQ(send(table, *id).drop, DropReason::sa_expired) << "never wraps to 0";
  std::vector<SaEvent> events;
  table.drain_events(events);
  ASSERT_EQ(events.size(), 2U);  // soft (15/16 of the space used) and hard
  EXPECT_EQ(events[0].kind, ExpireKind::soft);
  EXPECT_EQ(events[0].cause, ExpireCause::sequence);
  EXPECT_EQ(events[1].kind, ExpireKind::hard);
  EXPECT_EQ(events[1].cause, ExpireCause::sequence);
}

TEST(Lifetime, EsnContinuesPast32Bits) {
  SaTable table;
  SaConfig config = make_config(kGcm256, Direction::outbound, true);
  config.initial_sequence = 0xFFFFFFFEULL;
  auto id = table.add(config);
  ASSERT_TRUE(id.ok());
  for (uint64_t expected : {0xFFFFFFFFULL, 0x100000000ULL, 0x100000001ULL}) {
    const EncapResult r = send(table, *id);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.sequence, expected);
  }
}

TEST(Lifetime, RemovedSaDropsAsExpired) {
  SaTable table;
  auto id = table.add(make_config(kGcm256, Direction::outbound, false));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(table.remove(*id).ok());
  EXPECT_EQ(send(table, *id).drop, DropReason::sa_expired);
  EXPECT_FALSE(table.remove(*id).ok());
}

}  // namespace
}  // namespace ergw::xfrm::esp
