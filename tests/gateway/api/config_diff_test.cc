#include "gateway/api/config_diff.h"

#include <gtest/gtest.h>

namespace ergw::api {
namespace {

using Kind = DocumentChange::Kind;

TEST(ConfigDiffTest, ConnectionsAreMatchedByName) {
  auto a = nlohmann::json::parse(R"({"appliance": {"name": "x"}, "connections": [
      {"name": "hub", "azure": {"properties": {"dpdTimeoutSeconds": 45}}},
      {"name": "gone", "azure": {}}]})");
  auto b = nlohmann::json::parse(R"({"appliance": {"name": "y"}, "connections": [
      {"name": "new", "azure": {}},
      {"name": "hub", "azure": {"properties": {"dpdTimeoutSeconds": 30, "enableBgp": true}}}]})");
  const auto changes = diff_documents(a, b);
  ASSERT_EQ(changes.size(), 5u);
  EXPECT_EQ(changes[0].path, "appliance.name");
  EXPECT_EQ(changes[0].kind, Kind::changed);
  EXPECT_EQ(changes[1].path, "connections[hub].azure.properties.dpdTimeoutSeconds");
  EXPECT_EQ(changes[1].from, 45);
  EXPECT_EQ(changes[1].to, 30);
  EXPECT_EQ(changes[2].path, "connections[hub].azure.properties.enableBgp");
  EXPECT_EQ(changes[2].kind, Kind::added);
  EXPECT_EQ(changes[3].path, "connections[gone]");
  EXPECT_EQ(changes[3].kind, Kind::removed);
  EXPECT_EQ(changes[4].path, "connections[new]");
  EXPECT_EQ(changes[4].kind, Kind::added);
}

TEST(ConfigDiffTest, OtherArraysByIndex) {
  auto a = nlohmann::json::parse(R"({"connections": [{"name": "hub", "local": {"prefixes": ["10.0.0.0/8"]}}]})");
  auto b = nlohmann::json::parse(
      R"({"connections": [{"name": "hub", "local": {"prefixes": ["10.0.0.0/16", "192.168.0.0/16"]}}]})");
  const auto changes = diff_documents(a, b);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].path, "connections[hub].local.prefixes[0]");
  EXPECT_EQ(changes[1].path, "connections[hub].local.prefixes[1]");
  EXPECT_EQ(changes[1].kind, Kind::added);
  EXPECT_TRUE(diff_documents(a, a).empty());
}

}  // namespace
}  // namespace ergw::api
