// The message tree: building, replacing, typed accessors and their errors.
#include "vici/message.h"

#include <gtest/gtest.h>

namespace ergw::vici {
namespace {

TEST(ViciMessage, SettersKeepOrderAndReplaceInPlace) {
  Message m;
  m.set("a", "1").set("b", "2").set("a", "3");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.entries()[0].name, "a");
  EXPECT_EQ(*m.get_string("a"), "3");
  EXPECT_EQ(m.entries()[1].name, "b");
}

TEST(ViciMessage, ReplacingChangesKind) {
  Message m;
  m.set("x", "v");
  m.set_list("x", {"1", "2"});
  ASSERT_TRUE(m.get_list("x"));
  EXPECT_EQ(m.get_list("x").value()->size(), 2u);
  m.section("x").set("inner", "y");
  ASSERT_TRUE(m.get_section("x"));
  EXPECT_EQ(m.size(), 1u);
}

TEST(ViciMessage, NestedBuilding) {
  Message m;
  Section& conn = m.section("azure").set_int("version", 2);
  conn.section("children").section("net").set_list("local_ts", {"0.0.0.0/0", "::/0"});
  const Section* azure = *m.get_section("azure");
  EXPECT_EQ(*azure->get_int("version"), 2);
  const Section* children = *azure->get_section("children");
  const Section* net = *children->get_section("net");
  EXPECT_EQ(*net->get_list("local_ts").value(), (List{"0.0.0.0/0", "::/0"}));
}

TEST(ViciMessage, AppendToList) {
  Message m;
  m.append_to_list("owners", "a").append_to_list("owners", "b");
  EXPECT_EQ(*m.get_list("owners").value(), (List{"a", "b"}));
}

TEST(ViciMessage, TypedAccessors) {
  Message m;
  m.set_int("neg", -5).set_uint("big", 18446744073709551615ull).set_bool("t", true)
      .set_bool("f", false).set("truth", "true").set("text", "hello");
  EXPECT_EQ(*m.get_int("neg"), -5);
  EXPECT_EQ(*m.get_uint("big"), 18446744073709551615ull);
  EXPECT_TRUE(*m.get_bool("t"));
  EXPECT_FALSE(*m.get_bool("f"));
  EXPECT_TRUE(*m.get_bool("truth"));
  EXPECT_EQ(m.string_or("text", "x"), "hello");
  EXPECT_EQ(m.string_or("nope", "x"), "x");
}

TEST(ViciMessage, AccessorErrorsAreTyped) {
  Message m;
  m.set("text", "hello").set("neg", "-1").set_list("list", {"1"}).section("sec");
  EXPECT_EQ(m.get_string("absent").error(), FieldError::missing);
  EXPECT_EQ(m.get_int("text").error(), FieldError::malformed);
  EXPECT_EQ(m.get_uint("neg").error(), FieldError::malformed);
  EXPECT_EQ(m.get_bool("text").error(), FieldError::malformed);
  EXPECT_EQ(m.get_string("list").error(), FieldError::wrong_kind);
  EXPECT_EQ(m.get_list("sec").error(), FieldError::wrong_kind);
  EXPECT_EQ(m.get_section("text").error(), FieldError::wrong_kind);
  EXPECT_EQ(m.get_int("list").error(), FieldError::wrong_kind);
  EXPECT_NE(m.get_section("text").message().find("'text'"), std::string::npos);
}

TEST(ViciMessage, IntegerParsingIsStrict) {
  Message m;
  m.set("space", " 1").set("plus", "+1").set("trail", "1x").set("empty", "")
      .set("overflow", "99999999999999999999");
  for (const char* key : {"space", "plus", "trail", "empty", "overflow"}) {
    EXPECT_EQ(m.get_int(key).error(), FieldError::malformed) << key;
  }
}

TEST(ViciMessage, MalformedErrorDoesNotRevealValue) {
  Message m;
  m.set("data", "s3cr3t-psk");
  Field<int64_t> field = m.get_int("data");
  ASSERT_FALSE(field);
  EXPECT_EQ(field.message().find("s3cr3t"), std::string::npos);
}

TEST(ViciMessage, DebugStringRedactsSecrets) {
  Message m;
  m.set("type", "IKE").set("data", "s3cr3t-psk").set_list("owners", {"1.2.3.4"});
  m.set("blob", std::string_view("\x01\x02", 2));
  const std::string text = to_debug_string(m);
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
  EXPECT_NE(text.find("data = <redacted>"), std::string::npos);
  EXPECT_NE(text.find("owners = [1.2.3.4]"), std::string::npos);
  EXPECT_NE(text.find("blob = <2 bytes>"), std::string::npos);
}

TEST(ViciMessage, EraseAndEquality) {
  Message a;
  a.set("x", "1").set("y", "2");
  Message b = a;
  EXPECT_EQ(a, b);
  EXPECT_TRUE(b.erase("x"));
  EXPECT_FALSE(b.erase("x"));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ergw::vici
