// plan_azure_side: what ergw's configuration becomes on Azure, and the errors,
// each naming the field, for what Azure cannot express.
#include "gateway/azure_export/plan.h"

#include <gtest/gtest.h>

#include "tests/gateway/azure_export/export_test_support.h"

namespace ergw::azure_export {
namespace {

using ergw::Severity;
using testing::golden;
using testing::has;
using testing::load;
using testing::plan;

// Plans a document that loads; the diagnostics of planning.
std::pair<std::optional<AzureSide>, Diagnostics> try_plan(const nlohmann::json& document,
                                                          const ExportOptions& options = {}) {
  auto loaded = load(document);
  EXPECT_TRUE(loaded.config) << loaded.diagnostics.format();
  Diagnostics d;
  std::optional<AzureSide> side;
  if (loaded.config) side = plan_azure_side(*loaded.config, options, d);
  return {std::move(side), std::move(d)};
}

nlohmann::json& props(nlohmann::json& config) { return config["connections"][0]["azure"]["properties"]; }

TEST(Plan, StaticConnectionGetsTheOnPremPrefixesAsAddressSpace) {
  const auto side = plan(golden("gcmaes256-ecp384"));
  ASSERT_EQ(side.local_network_gateways.size(), 1u);
  const auto& lng = side.local_network_gateways[0];
  EXPECT_EQ(lng.name, "lgw-hub");
  EXPECT_EQ(lng.gateway_ip_address.to_string(), "172.16.0.1");
  ASSERT_EQ(lng.address_prefixes.size(), 1u);
  EXPECT_EQ(lng.address_prefixes[0].to_string(), "192.168.10.0/24");
  EXPECT_FALSE(lng.asn);
  const auto& c = side.connections[0];
  EXPECT_EQ(c.name, "hub-conn");
  EXPECT_EQ(c.local_network_gateway, "lgw-hub");
  EXPECT_EQ(c.shared_key_parameter, "sharedKey_hub");
  EXPECT_EQ(c.vpn_gateway_parameter, "vpnGatewayName_hub");
  EXPECT_TRUE(c.shared_key.empty()) << "the PSK is not part of the export unless asked for";
  ASSERT_TRUE(c.ipsec_policy);
  EXPECT_EQ(c.ipsec_policy->dh_group, policy::DhGroup::ECP384);
  EXPECT_EQ(c.dpd_timeout_seconds, 45);
  EXPECT_TRUE(c.use_local_azure_ip_address);
}

TEST(Plan, BgpConnectionGetsBgpSettingsAndNoAddressSpace) {
  auto config = golden("gcmaes256-ecp384");
  props(config)["enableBgp"] = true;
  const auto side = plan(config);
  const auto& lng = side.local_network_gateways[0];
  EXPECT_TRUE(lng.address_prefixes.empty());
  ASSERT_TRUE(lng.asn);
  EXPECT_EQ(*lng.asn, 65010u);
  ASSERT_TRUE(lng.bgp_peering_address);
  EXPECT_EQ(lng.bgp_peering_address->to_string(), "192.168.255.1");
  EXPECT_TRUE(side.connections[0].enable_bgp);
}

TEST(Plan, IncludedSharedKeyIsCarriedOnlyWhenAskedFor) {
  ExportOptions options;
  options.include_shared_keys = true;
  const auto side = plan(golden("gcmaes256-ecp384"), options);
  EXPECT_EQ(side.connections[0].shared_key.reveal(), "GoldenTestKey0123456789abcdefXYZ");
  EXPECT_TRUE(side.includes_shared_keys);
}

TEST(Plan, GatewayRequirementsNameTheTunnelAddressPrivateIpAndBgp) {
  auto config = golden("active-active-bgp-apipa");
  const auto side = plan(config);
  std::vector<std::string> queries;
  for (const auto& r : side.gateway_requirements) queries.push_back(r.query + " = " + r.expected);
  auto contains = [&](const std::string& q) { return std::find(queries.begin(), queries.end(), q) != queries.end(); };
  EXPECT_TRUE(contains("contains(bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses[], '172.16.0.2') = true"));
  EXPECT_TRUE(contains("contains(bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses[], '172.16.0.3') = true"));
  EXPECT_TRUE(contains("activeActive = true"));
  EXPECT_TRUE(contains("enablePrivateIpAddress = true"));
  EXPECT_TRUE(contains("bgpSettings.asn = 65515"));
  EXPECT_TRUE(contains("contains(bgpSettings.bgpPeeringAddresses[].customBgpIpAddresses[], '169.254.21.1') = true"));
  EXPECT_TRUE(contains("contains(bgpSettings.bgpPeeringAddresses[].customBgpIpAddresses[], '169.254.22.1') = true"));
  ASSERT_EQ(side.connections[0].gateway_custom_bgp_ip_addresses.size(), 2u);
  EXPECT_EQ(side.connections[0].gateway_custom_bgp_ip_addresses[0].ip_configuration, "ipconfig1");
}

TEST(Plan, GatewaySubnetBgpAddressIsRequiredAmongTheDefaults) {
  auto config = golden("gcmaes256-ecp384");
  props(config)["enableBgp"] = true;
  props(config)["useLocalAzureIpAddress"] = false;
  const auto side = plan(config);
  bool found = false;
  for (const auto& r : side.gateway_requirements) {
    if (r.query == "contains(bgpSettings.bgpPeeringAddresses[].defaultBgpIpAddresses[], '10.0.255.30')") found = true;
    EXPECT_NE(r.query, "enablePrivateIpAddress");
  }
  EXPECT_TRUE(found);
}

TEST(Plan, VpnGatewayNamesApplyToAllOrOneConnection) {
  ExportOptions options;
  options.vpn_gateway = "gw-all";
  EXPECT_EQ(plan(golden("gcmaes256-ecp384"), options).connections[0].vpn_gateway, "gw-all");
  options.vpn_gateway_by_connection["hub"] = "gw-hub";
  EXPECT_EQ(plan(golden("gcmaes256-ecp384"), options).connections[0].vpn_gateway, "gw-hub");
}

// (Names that differ only in letter case clash as Azure resource names
// already; see TwoConnectionsWithTheSameAzureNameClash.)
TEST(Plan, ParameterNamesStayDistinctWhenConnectionNamesDifferOnlyInPunctuation) {
  auto config = golden("gcmaes256-ecp384");
  auto second = config["connections"][0];
  second["name"] = "hub.x";
  second["azure"]["name"] = "second";
  second["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.9"};
  auto third = second;
  third["name"] = "hub-x";
  third["azure"]["name"] = "third";
  third["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.10"};
  config["connections"][0]["name"] = "hub_x";
  config["connections"].push_back(second);
  config["connections"].push_back(third);
  const auto side = plan(config);
  ASSERT_EQ(side.connections.size(), 3u);
  EXPECT_EQ(side.connections[0].shared_key_parameter, "sharedKey_hub_x");
  EXPECT_EQ(side.connections[1].shared_key_parameter, "sharedKey_hub_x_2");
  EXPECT_EQ(side.connections[2].shared_key_parameter, "sharedKey_hub_x_3");
}

TEST(Plan, IkeIdentitiesAreNotedAsNotExported) {
  auto config = golden("gcmaes256-ecp384");
  config["connections"][0]["local"]["ikeIdentity"] = "vpn.example.com";
  config["connections"][0]["azureGateway"]["ikeIdentity"] = "azure.example.com";
  auto [side, d] = try_plan(config);
  ASSERT_TRUE(side) << d.format();
  EXPECT_TRUE(has(d, Severity::note, "connections[0].local.ikeIdentity", "not exported")) << d.format();
  EXPECT_TRUE(has(d, Severity::note, "azureGateway.ikeIdentity", "not exported")) << d.format();
}

// --- what Azure cannot express ----------------------------------------------

TEST(PlanErrors, BareConnectionObjectHasNoLocalSide) {
  auto bare = golden("gcmaes256-ecp384")["connections"][0]["azure"];
  auto [side, d] = try_plan(bare);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "local.address", "bare Azure connection object")) << d.format();
}

TEST(PlanErrors, StaticConnectionWithoutPrefixesNamesLocalPrefixes) {
  auto config = golden("gcmaes256-ecp384");
  config["connections"][0]["local"].erase("prefixes");
  auto [side, d] = try_plan(config);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "connections[0].local.prefixes", "localNetworkAddressSpace.addressPrefixes"))
      << d.format();
}

TEST(PlanErrors, NamesAzureRefusesAreErrorsOnTheirField) {
  auto config = golden("gcmaes256-ecp384");
  config["connections"][0]["azure"]["name"] = "hub-conn.";
  auto [side, d] = try_plan(config);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "connections[0].azure.name", "ends with '.'")) << d.format();

  config = golden("gcmaes256-ecp384");
  config["connections"][0]["name"] = "hub-";
  std::tie(side, d) = try_plan(config);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "connections[0].name", "local network gateway")) << d.format();
}

TEST(PlanErrors, CustomBgpAddressWithoutIpConfigurationNamesTheField) {
  auto config = golden("active-active-bgp-apipa");
  props(config)["gatewayCustomBgpIpAddresses"][1].erase("ipConfigurationId");
  auto [side, d] = try_plan(config);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "gatewayCustomBgpIpAddresses[1].ipConfigurationId", "IP configuration"))
      << d.format();
}

TEST(PlanErrors, UnknownConnectionInVnetGatewayOption) {
  ExportOptions options;
  options.vpn_gateway_by_connection["nope"] = "gw";
  auto [side, d] = try_plan(golden("gcmaes256-ecp384"), options);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "--vnet-gateway", "\"nope\" is not a connection")) << d.format();
}

TEST(PlanErrors, TwoConnectionsWithTheSameAzureNameClash) {
  auto config = golden("gcmaes256-ecp384");
  auto second = config["connections"][0];
  second["name"] = "hub2";
  second["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.9"};
  config["connections"].push_back(second);
  auto [side, d] = try_plan(config);
  EXPECT_FALSE(side);
  EXPECT_TRUE(has(d, Severity::error, "connections[1].azure.name", "names two resources")) << d.format();
}

TEST(AzureResourceName, FollowsAzuresNamingRule) {
  EXPECT_EQ(azure_resource_name_problem("hub-conn_1.a"), "");
  EXPECT_EQ(azure_resource_name_problem("a_"), "");
  EXPECT_NE(azure_resource_name_problem(""), "");
  EXPECT_NE(azure_resource_name_problem(std::string(81, 'a')), "");
  EXPECT_EQ(azure_resource_name_problem(std::string(80, 'a')), "");
  EXPECT_NE(azure_resource_name_problem("-a"), "");
  EXPECT_NE(azure_resource_name_problem("a-"), "");
  EXPECT_NE(azure_resource_name_problem("a b"), "");
}

}  // namespace
}  // namespace ergw::azure_export
