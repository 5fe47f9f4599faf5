// ergw::Secret: never printed, read through reveal(), memory wiped when it is
// destroyed, overwritten or moved from.
#include "common/secret.h"

#include <gtest/gtest.h>

#include <cstring>
#include <new>
#include <type_traits>

namespace ergw {
namespace {

// No accidental way out: no conversion to a string, no stream operator.
static_assert(!std::is_convertible_v<Secret, std::string>);
static_assert(!std::is_convertible_v<Secret, std::string_view>);
static_assert(!std::is_convertible_v<std::string, Secret>, "construction is explicit");

TEST(Secret, RevealsOnlyOnRequest) {
  const Secret s(std::string("0123456789abcdef-long-enough-for-the-heap"));
  EXPECT_EQ(s.reveal(), "0123456789abcdef-long-enough-for-the-heap");
  EXPECT_EQ(s.size(), 41u);
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Secret().empty());
}

TEST(Secret, Comparison) {
  EXPECT_EQ(Secret(std::string("abc")), Secret(std::string("abc")));
  EXPECT_FALSE(Secret(std::string("abc")) == Secret(std::string("abd")));
  EXPECT_FALSE(Secret(std::string("abc")) == Secret(std::string("abcd")));
}

TEST(Secret, CopiesAndMovesKeepTheValue) {
  Secret a(std::string("short"));
  Secret b = a;
  EXPECT_EQ(b.reveal(), "short");
  Secret c = std::move(a);
  EXPECT_EQ(c.reveal(), "short");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  b = Secret(std::string("replaced"));
  EXPECT_EQ(b.reveal(), "replaced");
  c = b;
  EXPECT_EQ(c.reveal(), "replaced");
}

// wipe() zeroes the whole buffer, also the bytes past the string's end that
// a shorter value left behind.
TEST(Secret, WipeZeroesTheWholeBuffer) {
  std::string s = "a value longer than the small string buffer";
  s.resize(5);  // the rest of the old value stays in the buffer
  const char* buffer = s.data();
  const size_t capacity = s.capacity();
  wipe(s);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.data(), buffer) << "wiped in place";
  for (size_t i = 0; i < capacity; ++i) EXPECT_EQ(buffer[i], '\0') << i;
}

// A moved-from Secret holding a short value (in the string's own small
// buffer, which a move copies) is wiped too.
TEST(Secret, MovedFromShortValueIsWiped) {
  alignas(Secret) unsigned char storage[sizeof(Secret)];
  auto* from = new (storage) Secret(std::string("pskpsk"));
  const std::string& inside = from->reveal();
  const char* buffer = inside.data();
  const size_t capacity = inside.capacity();
  Secret to = std::move(*from);
  EXPECT_EQ(to.reveal(), "pskpsk");
  for (size_t i = 0; i < capacity; ++i) EXPECT_EQ(buffer[i], '\0') << i;
  from->~Secret();
}

}  // namespace
}  // namespace ergw
