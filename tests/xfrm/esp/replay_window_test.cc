// RFC 4303 3.4.3 / RFC 6479 window and Appendix A ESN inference, at window
// sizes 64 and 4096 (and a few odd ones), including wraps across 2^32.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "xfrm/esp/replay_window.h"

namespace ergw::xfrm::esp {
namespace {

using Verdict = ReplayWindow::Verdict;

class ReplayWindowTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ReplayWindowTest, InOrderThenDuplicates) {
  const uint32_t w = GetParam();
  ReplayWindow window(w, 0);
  EXPECT_EQ(window.check(0), Verdict::replayed) << "sequence 0 is never sent";
  for (uint64_t s = 1; s <= 3 * w; ++s) ASSERT_EQ(window.accept(s), Verdict::fresh) << s;
  for (uint64_t s = 2 * w + 1; s <= 3 * w; ++s) ASSERT_EQ(window.check(s), Verdict::replayed) << s;
  EXPECT_EQ(window.check(2 * w), Verdict::left_of_window);
  EXPECT_EQ(window.check(1), Verdict::left_of_window);
  EXPECT_EQ(window.check(3 * w + 1), Verdict::fresh);
}

TEST_P(ReplayWindowTest, EdgesOfTheWindow) {
  const uint32_t w = GetParam();
  ReplayWindow window(w, 0);
  const uint64_t top = 10'000;
  ASSERT_EQ(window.accept(top), Verdict::fresh);
  EXPECT_EQ(window.check(top - w + 1), Verdict::fresh) << "the left edge is inside";
  EXPECT_EQ(window.check(top - w), Verdict::left_of_window);
  EXPECT_EQ(window.accept(top - w + 1), Verdict::fresh);
  EXPECT_EQ(window.accept(top - w + 1), Verdict::replayed);
  EXPECT_EQ(window.accept(top), Verdict::replayed);
}

TEST_P(ReplayWindowTest, CheckDoesNotChangeState) {
  ReplayWindow window(GetParam(), 0);
  EXPECT_EQ(window.check(5), Verdict::fresh);
  EXPECT_EQ(window.check(5), Verdict::fresh);
  EXPECT_EQ(window.top(), 0U);
}

TEST_P(ReplayWindowTest, BigJumpsClearStaleBits) {
  const uint32_t w = GetParam();
  ReplayWindow window(w, 0);
  for (uint64_t s = 1; s <= w; ++s) window.accept(s);
  // Jump by less than the ring, by exactly the window, and by far more: the
  // numbers inside the new window that were never received must be fresh.
  for (uint64_t jump : {uint64_t{w / 2 + 1}, uint64_t{w}, uint64_t{w} * 7 + 3, uint64_t{1} << 40}) {
    const uint64_t top = window.top() + jump;
    ASSERT_EQ(window.accept(top), Verdict::fresh);
    for (uint64_t s = top - w + 1; s < top; ++s) {
      const bool was_received = s <= top - jump;
      ASSERT_EQ(window.check(s), was_received ? Verdict::replayed : Verdict::fresh) << "jump " << jump << " s " << s;
    }
  }
}

TEST_P(ReplayWindowTest, RandomisedAgainstAReferenceSet) {
  const uint32_t w = GetParam();
  ReplayWindow window(w, 0);
  std::set<uint64_t> seen{0};
  uint64_t top = 0;
  std::mt19937_64 rng(w);
  for (int i = 0; i < 20'000; ++i) {
    // Mostly near the top, sometimes behind it, sometimes far ahead.
    const uint64_t r = rng() % 100;
    uint64_t s;
    if (r < 70) s = top + 1 + rng() % 8;
    else if (r < 97) s = top > 2 * w ? top - rng() % (2 * w) : rng() % (top + 1);
    else s = top + rng() % (4 * w);
    Verdict expected;
    if (s > top) expected = Verdict::fresh;
    else if (top - s >= w) expected = Verdict::left_of_window;
    else expected = seen.contains(s) ? Verdict::replayed : Verdict::fresh;
    ASSERT_EQ(window.accept(s), expected) << "i=" << i << " s=" << s << " top=" << top;
    if (expected == Verdict::fresh) {
      seen.insert(s);
      top = std::max(top, s);
    }
  }
}

// RFC 4303 Appendix A2.2 cases, with the window straddling 2^32.
TEST_P(ReplayWindowTest, EsnInferenceAcrossTheSubspaceBoundary) {
  const uint32_t w = GetParam();
  const uint64_t boundary = uint64_t{1} << 32;
  // Case A: top well inside subspace 1.
  {
    ReplayWindow window(w, boundary + 5 * uint64_t{w});
    uint64_t full = 0;
    ASSERT_TRUE(window.infer_esn(static_cast<uint32_t>(5 * w), full));
    EXPECT_EQ(full, boundary + 5 * uint64_t{w});
    ASSERT_TRUE(window.infer_esn(static_cast<uint32_t>(4 * w + 1), full));  // Bl <= seql: same subspace
    EXPECT_EQ(full, boundary + 4 * uint64_t{w} + 1);
    ASSERT_TRUE(window.infer_esn(static_cast<uint32_t>(4 * w), full));  // below Bl: next subspace
    EXPECT_EQ(full, 2 * boundary + 4 * uint64_t{w});
  }
  // Case A at the very top of subspace 0: packets just past 2^32 belong to 1.
  {
    ReplayWindow window(w, boundary - 2);
    uint64_t full = 0;
    ASSERT_TRUE(window.infer_esn(3, full));
    EXPECT_EQ(full, boundary + 3);
    ASSERT_TRUE(window.infer_esn(0xFFFFFFF0u, full));
    EXPECT_EQ(full, 0xFFFFFFF0u);
  }
  // Case B: top just past 2^32, window reaching back into subspace 0.
  {
    ReplayWindow window(w, boundary + 2);
    uint64_t full = 0;
    ASSERT_TRUE(window.infer_esn(0xFFFFFFFFu, full));
    EXPECT_EQ(full, boundary - 1) << "inside the window, previous subspace";
    ASSERT_TRUE(window.infer_esn(1, full));
    EXPECT_EQ(full, boundary + 1);
    ASSERT_TRUE(window.infer_esn(1000 + w, full));
    EXPECT_EQ(full, boundary + 1000 + w);
  }
  // Case B in subspace 0: nothing lies before sequence 0.
  {
    ReplayWindow window(w, 3);
    uint64_t full = 0;
    EXPECT_FALSE(window.infer_esn(0xFFFFFFFFu, full));
    ASSERT_TRUE(window.infer_esn(2, full));
    EXPECT_EQ(full, 2U);
  }
}

TEST_P(ReplayWindowTest, StreamAcrossTheBoundaryWithReordering) {
  const uint32_t w = GetParam();
  const uint64_t start = (uint64_t{1} << 32) - 3 * uint64_t{w};
  ReplayWindow window(w, start);
  // Send 6w packets across 2^32, delivering each block of 8 in reverse order.
  for (uint64_t base = start + 1; base < start + 6 * uint64_t{w}; base += 8) {
    for (int k = 7; k >= 0; --k) {
      const uint64_t seq = base + static_cast<uint64_t>(k);
      uint64_t full = 0;
      ASSERT_TRUE(window.infer_esn(static_cast<uint32_t>(seq), full));
      ASSERT_EQ(full, seq);
      ASSERT_EQ(window.accept(full), Verdict::fresh) << seq;
    }
  }
  EXPECT_GT(window.top(), uint64_t{1} << 32);
  uint64_t full = 0;
  ASSERT_TRUE(window.infer_esn(static_cast<uint32_t>(window.top()), full));
  EXPECT_EQ(window.accept(full), Verdict::replayed);
}

INSTANTIATE_TEST_SUITE_P(Sizes, ReplayWindowTest, ::testing::Values(64u, 4096u, 32u, 100u, 1000u));

}  // namespace
}  // namespace ergw::xfrm::esp
