#include "gateway/store/api_key_store.h"

#include <gtest/gtest.h>

#include "gateway/store/store_file.h"

namespace ergw::store {
namespace {

ApiKeyRecord record(const std::string& name, const std::string& key_id) {
  ApiKeyRecord r;
  r.name = name;
  r.key_id = key_id;
  r.scope = "read";
  r.salt = std::string("\x01\x00\x02", 3);
  r.hash = std::string(32, '\x7f');
  r.created_at = 100;
  r.created_by = "root (local socket)";
  return r;
}

TEST(ApiKeyStoreTest, AddFindRevoke) {
  auto db = open_store(":memory:");
  ASSERT_TRUE(db) << db.error();
  ApiKeyStore keys(*db.value());
  ASSERT_TRUE(keys.add(record("grafana", "k1")));
  EXPECT_FALSE(keys.add(record("grafana", "k2")));  // names are unique
  auto found = keys.find_by_key_id("k1");
  ASSERT_TRUE(found && found.value());
  EXPECT_EQ(found.value()->name, "grafana");
  EXPECT_EQ(found.value()->salt, std::string("\x01\x00\x02", 3));  // blobs keep NULs
  EXPECT_FALSE(found.value()->revoked_at);
  EXPECT_TRUE(keys.revoke("grafana", 200).value());
  EXPECT_FALSE(keys.revoke("grafana", 300).value());  // already revoked
  EXPECT_EQ(keys.find_by_name("grafana").value()->revoked_at, 200);
  EXPECT_FALSE(keys.add(record("grafana", "k3")));  // a revoked key's name stays taken
  EXPECT_EQ(keys.list()->size(), 1u);
}

}  // namespace
}  // namespace ergw::store
