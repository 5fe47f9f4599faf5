// Timer semantics of the real clock (a handler runs once, never after
// cancel, re-arm or destruction) and the fake clock's ordering.
#include "common/clock.h"

#include <gtest/gtest.h>

#include <vector>

#include <boost/asio/io_context.hpp>

#include "tests/common/fake_clock.h"

namespace ergw {
namespace {

using namespace std::chrono_literals;

TEST(SteadyClock, TimerRunsOnceAndNeverAfterCancelReArmOrDestruction) {
  boost::asio::io_context io;
  auto clock = make_steady_clock(io.get_executor());
  std::vector<std::string> fired;
  auto a = clock->make_timer();
  auto b = clock->make_timer();
  auto c = clock->make_timer();
  auto d = clock->make_timer();
  a->start(1ms, [&] { fired.push_back("a"); });
  b->start(1ms, [&] { fired.push_back("b"); });
  b->cancel();
  c->start(1ms, [&] { fired.push_back("c-first"); });
  c->start(2ms, [&] { fired.push_back("c-second"); });
  d->start(1ms, [&] { fired.push_back("d"); });
  d.reset();
  EXPECT_TRUE(a->armed());
  EXPECT_FALSE(b->armed());
  io.run_for(100ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "c-second"}));
  EXPECT_FALSE(a->armed());
}

TEST(FakeClock, FiresInTimeOrderAndSeesTimersArmedByHandlers) {
  boost::asio::io_context io;
  testing::FakeClock clock(io);
  std::vector<std::string> fired;
  auto a = clock.make_timer();
  auto b = clock.make_timer();
  const auto start = clock.now();
  b->start(300ms, [&] { fired.push_back("b@" + std::to_string((clock.now() - start) / 1ms)); });
  a->start(100ms, [&] {
    fired.push_back("a@" + std::to_string((clock.now() - start) / 1ms));
    a->start(100ms, [&] { fired.push_back("a2@" + std::to_string((clock.now() - start) / 1ms)); });
  });
  clock.advance(250ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"a@100", "a2@200"}));
  clock.advance(50ms);
  EXPECT_EQ(fired.back(), "b@300");
  EXPECT_EQ(clock.armed_timers(), 0u);
}

}  // namespace
}  // namespace ergw
