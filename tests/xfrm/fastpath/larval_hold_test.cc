// LarvalHold: what it keeps, for how long, and in which order it gives back.
#include "xfrm/fastpath/larval_hold.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ergw::xfrm::fastpath {
namespace {

using Clock = LarvalHold::Clock;
using SpiState = LarvalHold::SpiState;
using std::chrono::milliseconds;

// An ESP header of `spi` with `sequence`, and `extra` octets after it.
std::vector<uint8_t> esp(uint32_t spi, uint8_t sequence, size_t extra = 0) {
  std::vector<uint8_t> p = {static_cast<uint8_t>(spi >> 24), static_cast<uint8_t>(spi >> 16),
                            static_cast<uint8_t>(spi >> 8), static_cast<uint8_t>(spi), 0, 0, 0, sequence};
  p.resize(p.size() + extra, 0xab);
  return p;
}

struct Spis {
  std::map<uint32_t, SpiState> states;
  SpiState operator()(uint32_t spi) const {
    const auto it = states.find(spi);
    return it == states.end() ? SpiState::unknown : it->second;
  }
};

TEST(LarvalHold, GivesBackInArrivalOrderOnceTheSaIsInstalled) {
  LarvalHold hold;
  const auto t0 = Clock::now();
  sockaddr_storage source{};
  source.ss_family = AF_INET;
  ASSERT_TRUE(hold.hold(esp(0x1001, 1), true, &source, t0));
  ASSERT_TRUE(hold.hold(esp(0x2002, 1), false, nullptr, t0));
  ASSERT_TRUE(hold.hold(esp(0x1001, 2), true, &source, t0));
  Spis spis{{{0x1001, SpiState::reserved}, {0x2002, SpiState::reserved}}};

  std::vector<uint8_t> delivered;
  const auto deliver = [&](LarvalHold::Packet& p) {
    delivered.push_back(p.esp[7]);
    EXPECT_EQ(p.source.has_value(), p.via_udp);
  };
  auto r = hold.release(t0 + milliseconds(5), spis, deliver);
  EXPECT_EQ(r.delivered, 0U);
  EXPECT_EQ(r.dropped, 0U);
  EXPECT_EQ(hold.size(), 3U);

  spis.states[0x1001] = SpiState::installed;
  r = hold.release(t0 + milliseconds(10), spis, deliver);
  EXPECT_EQ(r.delivered, 2U);
  EXPECT_EQ(delivered, (std::vector<uint8_t>{1, 2}));
  EXPECT_EQ(hold.size(), 3U) << "the released bytes stay valid until discard_released()";
  hold.discard_released();
  EXPECT_EQ(hold.size(), 1U);
  EXPECT_EQ(hold.bytes(), 8U);
}

TEST(LarvalHold, DropsWhatWaitsTooLongOrWhoseSpiWasGivenUp) {
  LarvalHold::Limits limits;
  limits.max_wait = milliseconds(100);
  LarvalHold hold(limits);
  const auto t0 = Clock::now();
  ASSERT_TRUE(hold.hold(esp(0x1001, 1), false, nullptr, t0));
  ASSERT_TRUE(hold.hold(esp(0x2002, 1), false, nullptr, t0 + milliseconds(60)));
  ASSERT_TRUE(hold.hold(esp(0x3003, 1), false, nullptr, t0 + milliseconds(60)));
  // 0x3003's SPI was released by charon (its negotiation failed).
  const Spis spis{{{0x1001, SpiState::reserved}, {0x2002, SpiState::reserved}}};
  size_t delivered = 0;
  const auto r = hold.release(t0 + milliseconds(101), spis, [&](LarvalHold::Packet&) { ++delivered; });
  EXPECT_EQ(delivered, 0U);
  EXPECT_EQ(r.dropped, 2U) << "0x1001 waited 101 ms, 0x3003 is nobody's";
  hold.discard_released();
  ASSERT_EQ(hold.size(), 1U);
  EXPECT_EQ(hold.bytes(), 8U);
}

TEST(LarvalHold, BoundedInPacketsAndBytes) {
  LarvalHold::Limits limits;
  limits.packets = 3;
  limits.bytes = 104;
  LarvalHold hold(limits);
  const auto t0 = Clock::now();
  EXPECT_TRUE(hold.hold(esp(1, 1, 40), false, nullptr, t0));   // 48 octets held
  EXPECT_TRUE(hold.hold(esp(1, 2, 40), false, nullptr, t0));   // 96
  EXPECT_FALSE(hold.hold(esp(1, 3, 40), false, nullptr, t0));  // 144: over the bytes
  EXPECT_TRUE(hold.hold(esp(1, 4), false, nullptr, t0));       // 104, 3 packets
  EXPECT_FALSE(hold.hold(esp(1, 5), false, nullptr, t0)) << "a fourth packet";
  EXPECT_EQ(hold.size(), 3U);
  EXPECT_EQ(hold.bytes(), 104U);
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
