// The ARM template: Azure's property names and enum spellings, the PSK as a
// secure parameter unless asked for, references as ARM expressions.
#include "gateway/azure_export/arm_template.h"

#include <gtest/gtest.h>

#include "tests/gateway/azure_export/export_test_support.h"

namespace ergw::azure_export {
namespace {

using testing::golden;
using testing::plan;

const nlohmann::ordered_json& resource(const nlohmann::ordered_json& t, const std::string& type) {
  for (const auto& r : t["resources"]) {
    if (r["type"] == type) return r;
  }
  throw std::runtime_error("no " + type);
}

TEST(ArmTemplate, ConnectionCarriesThePolicyInAzuresNamesAndSpellings) {
  auto config = golden("aes256-sha384-dh24-pfs24");
  const auto t = arm_template(plan(config), "test.json");
  EXPECT_EQ(t["$schema"], "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#");
  EXPECT_EQ(t["contentVersion"], "1.0.0.0");
  const auto& c = resource(t, "Microsoft.Network/connections");
  EXPECT_EQ(c["apiVersion"], "2024-05-01");
  EXPECT_EQ(c["name"], "hub-conn");
  EXPECT_EQ(c["location"], "[parameters('location')]");
  const auto& p = c["properties"];
  EXPECT_EQ(p["connectionType"], "IPsec");
  EXPECT_EQ(p["connectionProtocol"], "IKEv2");
  EXPECT_EQ(p["virtualNetworkGateway1"]["id"],
            "[resourceId('Microsoft.Network/virtualNetworkGateways', parameters('vpnGatewayName_hub'))]");
  EXPECT_EQ(p["localNetworkGateway2"]["id"], "[resourceId('Microsoft.Network/localNetworkGateways', 'lgw-hub')]");
  EXPECT_EQ(c["dependsOn"][0], "[resourceId('Microsoft.Network/localNetworkGateways', 'lgw-hub')]");
  EXPECT_EQ(p["sharedKey"], "[parameters('sharedKey_hub')]");
  ASSERT_EQ(p["ipsecPolicies"].size(), 1u);
  const auto& policy = p["ipsecPolicies"][0];
  const auto loaded = testing::load(config);
  const auto expected = *loaded.config->connections[0].azure.custom_policy();
  EXPECT_EQ(policy["saLifeTimeSeconds"], expected.sa_lifetime_seconds);
  EXPECT_EQ(policy["saDataSizeKilobytes"], expected.sa_data_size_kilobytes);
  EXPECT_EQ(policy["ikeEncryption"], std::string(policy::enum_name(expected.ike_encryption)));
  EXPECT_EQ(policy["ikeIntegrity"], std::string(policy::enum_name(expected.ike_integrity)));
  EXPECT_EQ(policy["dhGroup"], "DHGroup24");
  EXPECT_EQ(policy["pfsGroup"], "PFS24");
  EXPECT_EQ(policy["ipsecEncryption"], std::string(policy::enum_name(expected.ipsec_encryption)));
  EXPECT_EQ(policy["ipsecIntegrity"], std::string(policy::enum_name(expected.ipsec_integrity)));
  EXPECT_EQ(policy.size(), 8u) << "all eight fields, nothing else";
  EXPECT_EQ(p["dpdTimeoutSeconds"], 45);
  EXPECT_EQ(p["connectionMode"], "Default");
  EXPECT_EQ(p["enableBgp"], false);
  EXPECT_EQ(p["usePolicyBasedTrafficSelectors"], false);
  EXPECT_FALSE(p.contains("trafficSelectorPolicies"));
}

TEST(ArmTemplate, ThePskIsASecureParameterAndNeverInTheTemplate) {
  const auto t = arm_template(plan(golden("gcmaes256-ecp384")), "test.json");
  EXPECT_EQ(t["parameters"]["sharedKey_hub"]["type"], "securestring");
  EXPECT_FALSE(t["parameters"]["sharedKey_hub"].contains("defaultValue"));
  EXPECT_EQ(t.dump().find("GoldenTestKey"), std::string::npos);
}

TEST(ArmTemplate, IncludedPskSitsInSharedKeyAndNowhereElse) {
  ExportOptions options;
  options.include_shared_keys = true;
  const auto t = arm_template(plan(golden("gcmaes256-ecp384"), options), "test.json");
  EXPECT_EQ(resource(t, "Microsoft.Network/connections")["properties"]["sharedKey"],
            "GoldenTestKey0123456789abcdefXYZ");
  EXPECT_FALSE(t["parameters"].contains("sharedKey_hub"));
  const auto text = t.dump();
  EXPECT_EQ(text.find("GoldenTestKey"), text.rfind("GoldenTestKey")) << "exactly once";
}

TEST(ArmTemplate, LocalNetworkGatewayStaticAndBgp) {
  auto config = golden("gcmaes256-ecp384");
  auto t = arm_template(plan(config), "test.json");
  auto lng = resource(t, "Microsoft.Network/localNetworkGateways");
  EXPECT_EQ(lng["name"], "lgw-hub");
  EXPECT_EQ(lng["properties"]["gatewayIpAddress"], "172.16.0.1");
  EXPECT_EQ(lng["properties"]["localNetworkAddressSpace"]["addressPrefixes"][0], "192.168.10.0/24");
  EXPECT_FALSE(lng["properties"].contains("bgpSettings"));

  config["connections"][0]["azure"]["properties"]["enableBgp"] = true;
  t = arm_template(plan(config), "test.json");
  lng = resource(t, "Microsoft.Network/localNetworkGateways");
  EXPECT_FALSE(lng["properties"].contains("localNetworkAddressSpace"));
  EXPECT_EQ(lng["properties"]["bgpSettings"]["asn"], 65010);
  EXPECT_EQ(lng["properties"]["bgpSettings"]["bgpPeeringAddress"], "192.168.255.1");
  EXPECT_EQ(resource(t, "Microsoft.Network/connections")["properties"]["enableBgp"], true);
}

TEST(ArmTemplate, PolicyBasedSelectorsAndPrivateIp) {
  const auto t = arm_template(plan(golden("policy-based")), "test.json");
  const auto& p = resource(t, "Microsoft.Network/connections")["properties"];
  EXPECT_EQ(p["usePolicyBasedTrafficSelectors"], true);
  EXPECT_EQ(p["trafficSelectorPolicies"][0]["localAddressRanges"][0], "10.0.0.0/16");
  EXPECT_EQ(p["trafficSelectorPolicies"][0]["remoteAddressRanges"][0], "192.168.10.0/24");
  EXPECT_EQ(p["useLocalAzureIpAddress"], true);
}

TEST(ArmTemplate, CustomApipaAddressesReferenceTheGatewaysIpConfigurations) {
  auto config = golden("active-active-bgp-apipa");
  config["connections"][0]["azure"]["properties"]["gatewayCustomBgpIpAddresses"][1]["ipConfigurationId"] =
      "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/gw/ipConfigurations/b";
  const auto t = arm_template(plan(config), "test.json");
  const auto& custom = resource(t, "Microsoft.Network/connections")["properties"]["gatewayCustomBgpIpAddresses"];
  ASSERT_EQ(custom.size(), 2u);
  EXPECT_EQ(custom[0]["ipConfigurationId"],
            "[resourceId('Microsoft.Network/virtualNetworkGateways/ipConfigurations', "
            "parameters('vpnGatewayName_hub'), 'ipconfig1')]");
  EXPECT_EQ(custom[0]["customBgpIpAddress"], "169.254.21.1");
  EXPECT_EQ(
      custom[1]["ipConfigurationId"],
      "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/gw/ipConfigurations/b");
  EXPECT_EQ(resource(t, "Microsoft.Network/connections")["properties"]["connectionMode"], "ResponderOnly");
  EXPECT_GE(t["metadata"]["gatewayRequirements"].size(), 5u);
}

TEST(ArmTemplate, DefaultOffersMeanNoIpsecPolicies) {
  const auto t = arm_template(plan(golden("azure-defaults")), "test.json");
  EXPECT_FALSE(resource(t, "Microsoft.Network/connections")["properties"].contains("ipsecPolicies"));
}

TEST(ArmTemplate, ExpressionsQuoteTheirStrings) {
  EXPECT_EQ(arm_expression({TemplateReference::Kind::vpn_gateway_ip_configuration_id, "g", "it's"}),
            "[resourceId('Microsoft.Network/virtualNetworkGateways/ipConfigurations', parameters('g'), 'it''s')]");
  // A literal that looks like an expression is escaped with a second '['.
  EXPECT_EQ(arm_value(TemplateValue(std::string("[x]"))), "[[x]");
  EXPECT_EQ(arm_value(TemplateValue(std::string("[x"))), "[x");
}

TEST(ArmTemplate, GatewayNameGivenBecomesTheParametersDefault) {
  ExportOptions options;
  options.vpn_gateway = "gw-hub";
  const auto t = arm_template(plan(golden("gcmaes256-ecp384"), options), "test.json");
  EXPECT_EQ(t["parameters"]["vpnGatewayName_hub"]["defaultValue"], "gw-hub");
  EXPECT_EQ(t["parameters"]["location"]["defaultValue"], "[resourceGroup().location]");
}

}  // namespace
}  // namespace ergw::azure_export
