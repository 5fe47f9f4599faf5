#include "gateway/api/api_keys.h"

#include <regex>

#include <gtest/gtest.h>

namespace ergw::api {
namespace {

TEST(ApiKeysTest, AKeyMatchesItsRecordOnly) {
  auto a = generate_api_key("ci", Scope::admin, "root", 100);
  auto b = generate_api_key("ci2", Scope::read, "root", 100);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(std::regex_match(a->key, std::regex("ergw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}"))) << a->key;
  EXPECT_EQ(key_id_of(a->key), a->record.key_id);
  EXPECT_EQ(a->record.scope, "admin");
  EXPECT_EQ(a->record.salt.size(), 16u);
  EXPECT_EQ(a->record.hash.size(), 32u);
  EXPECT_TRUE(key_matches(a->key, a->record));
  EXPECT_FALSE(key_matches(b->key, a->record));
  std::string tampered = a->key;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(key_matches(tampered, a->record));
  // The record holds no part of the secret.
  const auto secret = a->key.substr(22);
  EXPECT_EQ(a->record.hash.find(secret), std::string::npos);
  EXPECT_NE(a->record.key_id, b->record.key_id);
}

TEST(ApiKeysTest, MalformedKeysHaveNoId) {
  for (const char* text : {"", "ergw_", "ergw_0123456789abcdef", "ergw_0123456789abcdef_", "xxxx_0123456789abcdef_abc",
                           "ergw_0123456789ABCDEF_abc", "ergw_0123456789abcdeX_abc", "ergw_0123456789abcdef-abc"}) {
    EXPECT_FALSE(key_id_of(text)) << text;
  }
}

TEST(ApiKeysTest, NamesAndScopes) {
  EXPECT_TRUE(is_valid_key_name("grafana@noc.example"));
  EXPECT_FALSE(is_valid_key_name(""));
  EXPECT_FALSE(is_valid_key_name("with space"));
  EXPECT_FALSE(is_valid_key_name(std::string(64, 'a')));
  EXPECT_EQ(parse_scope("read"), Scope::read);
  EXPECT_EQ(parse_scope("admin"), Scope::admin);
  EXPECT_FALSE(parse_scope("root"));
}

}  // namespace
}  // namespace ergw::api
