#include "gateway/api/connection_resource.h"

#include <gtest/gtest.h>

namespace ergw::api {
namespace {

const nlohmann::json kDocument = nlohmann::json::parse(R"({"connections": [
  {"name": "hub", "azure": {"name": "onprem", "properties": {"connectionType": "IPsec", "dpdTimeoutSeconds": 30}},
   "azureGateway": {"tunnelIpAddresses": ["192.0.2.1"]}, "local": {"address": "198.51.100.1"}, "interfaceId": 4},
  {"azure": {"name": "flat", "connectionType": "IPsec"}}]})");

TEST(ConnectionResourceTest, NamesAndLookup) {
  EXPECT_EQ(connection_names(kDocument), (std::vector<std::string>{"hub", "flat"}));
  EXPECT_EQ(find_connection(kDocument, "flat"), 1u);
  EXPECT_FALSE(find_connection(kDocument, "none"));
}

TEST(ConnectionResourceTest, ResourceIsArmShapedWithReadOnlyState) {
  metrics::ConnectionObservation seen;
  seen.up = true;
  seen.traffic.tx_bytes = 100;
  seen.traffic.rx_bytes = 7;
  auto r = connection_resource(kDocument, 0, "hub", &seen, Provisioning::succeeded);
  EXPECT_EQ(r["name"], "hub");
  EXPECT_EQ(r["properties"]["dpdTimeoutSeconds"], 30);
  EXPECT_EQ(r["properties"]["connectionStatus"], "Connected");
  EXPECT_EQ(r["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(r["properties"]["ingressBytesTransferred"], 100);  // into Azure = sent by ergw
  EXPECT_EQ(r["properties"]["egressBytesTransferred"], 7);
  EXPECT_EQ(r["ergw"]["interfaceId"], 4);
  EXPECT_EQ(r["ergw"]["azureGateway"]["tunnelIpAddresses"][0], "192.0.2.1");
  auto flat = connection_resource(kDocument, 1, "flat", nullptr, Provisioning::updating);
  EXPECT_EQ(flat["properties"]["connectionType"], "IPsec");
  EXPECT_FALSE(flat["properties"].contains("name"));
  EXPECT_EQ(flat["properties"]["connectionStatus"], "Unknown");
  EXPECT_EQ(flat["properties"]["provisioningState"], "Updating");
}

TEST(ConnectionResourceTest, AResourceRoundTripsToTheSameEntry) {
  auto r = connection_resource(kDocument, 0, "hub", nullptr, Provisioning::succeeded);
  r["etag"] = "\"3\"";
  Diagnostics d;
  auto entry = connection_entry(r, "hub", d);
  ASSERT_TRUE(entry) << d.format();
  EXPECT_FALSE(d.has_errors()) << d.format();
  EXPECT_EQ((*entry)["azure"]["properties"], kDocument["connections"][0]["azure"]["properties"]);
  EXPECT_EQ((*entry)["interfaceId"], 4);
  EXPECT_EQ((*entry)["name"], "hub");
}

TEST(ConnectionResourceTest, BodyErrorsNameTheirFields) {
  Diagnostics d;
  auto body = nlohmann::json::parse(
      R"({"name": "other", "properties": {}, "ergw": {"sharedKeyFile": "/etc/shadow", "intefaceId": 3}})");
  auto entry = connection_entry(body, "hub", d);
  EXPECT_TRUE(entry);  // returned so that validation adds its own findings
  const auto text = d.format();
  EXPECT_NE(text.find("error: name:"), std::string::npos) << text;
  EXPECT_NE(text.find("error: ergw.sharedKeyFile:"), std::string::npos) << text;
  EXPECT_NE(text.find("warning: ergw.intefaceId"), std::string::npos) << text;
  Diagnostics d2;
  EXPECT_FALSE(connection_entry(nlohmann::json::array(), "hub", d2));
  EXPECT_FALSE(connection_entry(nlohmann::json::object(), "hub", d2));
  EXPECT_NE(d2.format().find("properties: missing"), std::string::npos) << d2.format();
}

}  // namespace
}  // namespace ergw::api
