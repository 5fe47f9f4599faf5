#include "gateway/api/connection_resource.h"

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "common/parse_json.h"
#include "gateway/policy/connection_members.h"

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

// Every member of policy::kConnectionMembers by how the API treats it: shown
// ones survive GET -> PUT body -> entry, the secret is taken and never shown,
// key files are refused. Values need not be valid here (the rule book checks
// them on the service's path: ManagementServiceTest.APutKeepsEveryMemberOfErgwsBlock).
TEST(ConnectionResourceTest, EveryMemberOfTheSharedListIsShownTakenOrRefused) {
  nlohmann::json document = kDocument;
  auto& hub = document["connections"][0];
  int value = 100;
  for (const auto& m : policy::kConnectionMembers) {
    if (m.exposure != policy::MemberExposure::envelope) hub[std::string(m.key)] = value++;
  }
  const auto r = connection_resource(document, 0, "hub", nullptr, Provisioning::succeeded);
  Diagnostics d;
  auto entry = connection_entry(r, "hub", d);
  ASSERT_TRUE(entry) << d.format();
  EXPECT_FALSE(d.has_errors()) << d.format();
  for (const auto& m : policy::kConnectionMembers) {
    const std::string key(m.key);
    switch (m.exposure) {
      case policy::MemberExposure::shown:
        EXPECT_EQ(r["ergw"].value(key, nlohmann::json()), hub[key]) << key << " not shown";
        EXPECT_EQ(entry->value(key, nlohmann::json()), hub[key]) << key << " not taken back";
        break;
      case policy::MemberExposure::secret:
      case policy::MemberExposure::appliance_file:
        EXPECT_FALSE(r["ergw"].contains(key)) << key << " shown";
        break;
      case policy::MemberExposure::envelope: break;
    }
  }

  nlohmann::json body = {{"properties", nlohmann::json::object()}, {"ergw", nlohmann::json::object()}};
  for (const auto& m : policy::kConnectionMembers) {
    if (m.exposure != policy::MemberExposure::envelope) body["ergw"][std::string(m.key)] = "v";
  }
  Diagnostics put;
  auto taken = connection_entry(body, "hub", put);
  ASSERT_TRUE(taken) << put.format();
  const auto text = put.format();
  for (const auto& m : policy::kConnectionMembers) {
    const std::string key(m.key);
    switch (m.exposure) {
      case policy::MemberExposure::shown:
      case policy::MemberExposure::secret:
        EXPECT_EQ(taken->value(key, nlohmann::json()), "v") << key << " not taken";
        break;
      case policy::MemberExposure::appliance_file:
        EXPECT_FALSE(taken->contains(key)) << key;
        EXPECT_NE(text.find("error: ergw." + key + ": not accepted over the API"), std::string::npos) << text;
        EXPECT_NE(text.find("/v1/connections/hub/"), std::string::npos) << "the alternative names the connection";
        break;
      case policy::MemberExposure::envelope: break;
    }
  }
  EXPECT_EQ(text.find("unknown field"), std::string::npos) << text;
}

// The OpenAPI document's ErgwBlock names exactly the members a PUT takes.
TEST(ConnectionResourceTest, TheOpenApiBlockListsTheSameMembers) {
  std::ifstream in(std::string(ERGW_SOURCE_DIR) + "/gateway/api/openapi.json");
  const auto openapi = parse_json(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  ASSERT_TRUE(openapi);
  const auto& block = (*openapi)["components"]["schemas"]["ErgwBlock"]["properties"];
  std::set<std::string> documented, taken;
  for (const auto& item : block.items()) documented.insert(item.key());
  for (const auto& m : policy::kConnectionMembers) {
    if (m.exposure != policy::MemberExposure::shown && m.exposure != policy::MemberExposure::secret) continue;
    taken.insert(std::string(m.key));
    const auto schema = block.find(std::string(m.key));
    if (schema == block.end()) continue;  // reported below
    EXPECT_EQ(schema->value("writeOnly", false), m.exposure == policy::MemberExposure::secret) << m.key;
  }
  EXPECT_EQ(documented, taken);
}

}  // namespace
}  // namespace ergw::api
