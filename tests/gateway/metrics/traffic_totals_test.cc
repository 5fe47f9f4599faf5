#include "gateway/metrics/traffic_totals.h"

#include <gtest/gtest.h>

namespace ergw::metrics {
namespace {

SaSample sa(const std::string& connection, uint64_t child, uint64_t rx_bytes, uint64_t tx_bytes) {
  SaSample s;
  s.connection = connection;
  s.child_id = child;
  s.counters.rx_bytes = rx_bytes;
  s.counters.rx_packets = rx_bytes / 100;
  s.counters.tx_bytes = tx_bytes;
  s.counters.tx_packets = tx_bytes / 100;
  return s;
}

TEST(TrafficTotalsTest, SumsLiveSas) {
  TrafficTotals t;
  t.sample({sa("hub", 1, 1000, 2000), sa("hub", 2, 500, 0), sa("spoke", 3, 7, 9)});
  EXPECT_EQ(t.totals("hub").rx_bytes, 1500u);
  EXPECT_EQ(t.totals("hub").tx_bytes, 2000u);
  EXPECT_EQ(t.totals("spoke").tx_bytes, 9u);
  EXPECT_EQ(t.totals("nothing").rx_bytes, 0u);
}

TEST(TrafficTotalsTest, ARekeyedSaStaysAddedIn) {
  TrafficTotals t;
  t.sample({sa("hub", 1, 1000, 2000)});
  // The rekey event carries the old SA's final counters; the new SA starts at 0.
  t.final_counters(sa("hub", 1, 1200, 2100));
  t.sample({sa("hub", 2, 10, 20)});
  EXPECT_EQ(t.totals("hub").rx_bytes, 1210u);
  EXPECT_EQ(t.totals("hub").tx_bytes, 2120u);
  EXPECT_EQ(t.totals("hub").rx_packets, 12u);
}

TEST(TrafficTotalsTest, ARetiredSaSeenAgainIsNotCountedTwice) {
  TrafficTotals t;
  t.sample({sa("hub", 1, 1000, 0)});
  t.final_counters(sa("hub", 1, 1100, 0));
  // charon still lists the old SA (REKEYED) next to the new one for a moment.
  t.sample({sa("hub", 1, 1100, 0), sa("hub", 2, 5, 0)});
  t.sample({sa("hub", 2, 50, 0)});
  EXPECT_EQ(t.totals("hub").rx_bytes, 1150u);
}

TEST(TrafficTotalsTest, CharonRestartReusingIdsNeverGoesBackwards) {
  TrafficTotals t;
  t.sample({sa("hub", 1, 5000, 6000)});
  // charon restarted: new SAs, ids from 1 again, counters low.
  t.sample({sa("hub", 1, 100, 100)});
  EXPECT_EQ(t.totals("hub").rx_bytes, 5100u);
  EXPECT_EQ(t.totals("hub").tx_bytes, 6100u);
  // Or charon was seen going away first.
  t.retire_all();
  EXPECT_EQ(t.totals("hub").rx_bytes, 5100u);
  t.sample({sa("hub", 1, 1, 1)});
  EXPECT_EQ(t.totals("hub").rx_bytes, 5101u);
}

TEST(TrafficTotalsTest, MonotonicOverAnySequence) {
  TrafficTotals t;
  uint64_t last_rx = 0;
  uint64_t live = 0;
  uint64_t child = 1;
  for (int step = 0; step < 500; ++step) {
    live += 37;
    if (step % 17 == 0) {
      t.final_counters(sa("hub", child, live, live));
      ++child;
      live = 0;
    }
    if (step % 101 == 0) t.retire_all();
    t.sample({sa("hub", child, live, live)});
    const auto rx = t.totals("hub").rx_bytes;
    ASSERT_GE(rx, last_rx) << "step " << step;
    last_rx = rx;
  }
}

TEST(TrafficTotalsTest, AnIkeRekeyMovingTheChildSaCountsItOnce) {
  TrafficTotals t;
  // charon lists CHILD SA 1 under IKE SA 1; after the IKE rekey the same CHILD
  // SA (same id, same counters) is listed under IKE SA 2.
  t.sample({sa("hub", 1, 1000, 2000)});
  t.sample({sa("hub", 1, 1100, 2100)});
  EXPECT_EQ(t.totals("hub").rx_bytes, 1100u);
  EXPECT_EQ(t.totals("hub").tx_bytes, 2100u);
}

TEST(TrafficTotalsTest, DropsAreTotalledLikeTraffic) {
  TrafficTotals t;
  auto a = sa("hub", 1, 0, 0);
  a.counters.drops[DropReason::replay] = 4;
  t.sample({a});
  auto b = sa("hub", 2, 0, 0);
  b.counters.drops[DropReason::replay] = 1;
  t.sample({b});
  EXPECT_EQ(t.totals("hub").drops.at(DropReason::replay), 5u);
}

TEST(TrafficTotalsTest, ForgetEndsAConnectionsSeries) {
  TrafficTotals t;
  t.sample({sa("hub", 1, 10, 10)});
  ASSERT_EQ(t.connections().size(), 1u);
  t.forget("hub");
  EXPECT_TRUE(t.connections().empty());
  EXPECT_EQ(t.totals("hub").rx_bytes, 0u);
}

}  // namespace
}  // namespace ergw::metrics
