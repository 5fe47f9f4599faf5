// The az commands: az's flag names and Azure's values, shell quoting, the PSK
// as an environment variable unless asked for, and the JSON form.
#include "gateway/azure_export/az_script.h"

#include <gtest/gtest.h>

#include "tests/common/text_contains.h"
#include "tests/gateway/azure_export/export_test_support.h"

namespace ergw::azure_export {
namespace {

using testing::golden;
using testing::plan;

using ergw::testing::contains;

std::string command_line(const AzCommand& c) {
  std::string out;
  for (const auto& word : c.argv) {
    if (!out.empty()) out += ' ';
    for (const auto& part : word) out += part.variable ? "$" + part.text : part.text;
  }
  return out;
}

std::vector<std::string> command_lines(const AzScript& s) {
  std::vector<std::string> out;
  for (const auto& c : s.commands)
    out.push_back((c.capture_into.empty() ? "" : c.capture_into + "=") + command_line(c));
  return out;
}

TEST(AzScript, StaticConnectionWithACustomPolicy) {
  ExportOptions options;
  options.resource_group = "rg-net";
  options.vpn_gateway = "gw-hub";
  const auto lines = command_lines(az_script(plan(golden("gcmaes256-ecp384"), options)));
  const std::vector<std::string> expected = {
      "az network local-gateway create --resource-group $RESOURCE_GROUP --name lgw-hub --gateway-ip-address "
      "172.16.0.1 --local-address-prefixes 192.168.10.0/24",
      "az network vpn-connection create --resource-group $RESOURCE_GROUP --name hub-conn --vnet-gateway1 "
      "$VPN_GATEWAY_NAME_HUB --local-gateway2 lgw-hub --shared-key $SHARED_KEY_HUB",
      "az network vpn-connection update --resource-group $RESOURCE_GROUP --name hub-conn --set connectionMode=Default "
      "dpdTimeoutSeconds=45 useLocalAzureIpAddress=true",
      "az network vpn-connection ipsec-policy add --resource-group $RESOURCE_GROUP --connection-name hub-conn "
      "--ike-encryption GCMAES256 --ike-integrity SHA384 --dh-group ECP384 --ipsec-encryption GCMAES256 "
      "--ipsec-integrity GCMAES256 --pfs-group ECP384 --sa-lifetime 27000 --sa-max-size 102400000"};
  EXPECT_EQ(lines, expected);
}

TEST(AzScript, BgpPolicyBasedAndApipa) {
  auto config = golden("policy-based");
  auto lines = command_lines(az_script(plan(config)));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_TRUE(contains(lines[1], "--use-policy-based-traffic-selectors true")) << lines[1];
  EXPECT_TRUE(contains(lines[2],
                       "trafficSelectorPolicies=[{\"localAddressRanges\":[\"10.0.0.0/16\"],"
                       "\"remoteAddressRanges\":[\"192.168.10.0/24\"]}]"))
      << lines[2];

  lines = command_lines(az_script(plan(golden("active-active-bgp-apipa"))));
  EXPECT_EQ(lines[0],
            "az network local-gateway create --resource-group $RESOURCE_GROUP --name lgw-hub "
            "--gateway-ip-address 172.16.0.1 --asn 65010 --bgp-peering-address 169.254.21.2");
  EXPECT_TRUE(contains(lines[1], " --enable-bgp")) << lines[1];
  EXPECT_EQ(lines[2],
            "VPN_GATEWAY_ID_HUB=az network vnet-gateway show --resource-group $RESOURCE_GROUP --name "
            "$VPN_GATEWAY_NAME_HUB --query id --output tsv");
  EXPECT_TRUE(contains(lines[3], "connectionMode=ResponderOnly")) << lines[3];
  EXPECT_TRUE(contains(lines[3],
                       "gatewayCustomBgpIpAddresses=[{\"ipConfigurationId\":\"$VPN_GATEWAY_ID_HUB"
                       "/ipConfigurations/ipconfig1\",\"customBgpIpAddress\":\"169.254.21.1\"},"
                       "{\"ipConfigurationId\":\"$VPN_GATEWAY_ID_HUB/ipConfigurations/ipconfig2\","
                       "\"customBgpIpAddress\":\"169.254.22.1\"}]"))
      << lines[3];
  EXPECT_TRUE(contains(lines[4], "--pfs-group PFSMM")) << lines[4];
}

TEST(AzScript, DefaultOffersMeanNoIpsecPolicyCommand) {
  for (const auto& line : command_lines(az_script(plan(golden("azure-defaults"))))) {
    EXPECT_FALSE(contains(line, "ipsec-policy")) << line;
  }
}

TEST(AzScript, RenderedScriptQuotesAndRequiresItsVariables) {
  ExportOptions options;
  options.vpn_gateway = "gw hub";  // not a valid name; quoting is still exercised below
  auto side = plan(golden("active-active-bgp-apipa"));
  side.connections[0].vpn_gateway = "gw's";
  const auto text = render_az_script(az_script(side), "cfg.json");
  EXPECT_TRUE(contains(text, "#!/usr/bin/env bash\n")) << text;
  EXPECT_TRUE(contains(text, "set -euo pipefail\n")) << text;
  EXPECT_TRUE(contains(text, ": \"${RESOURCE_GROUP:?set RESOURCE_GROUP in the environment}\"\n")) << text;
  EXPECT_TRUE(contains(text, "VPN_GATEWAY_NAME_HUB=${VPN_GATEWAY_NAME_HUB:-\"gw's\"}\n")) << text;
  EXPECT_TRUE(contains(text, ": \"${SHARED_KEY_HUB:?set SHARED_KEY_HUB")) << text;
  EXPECT_TRUE(contains(text, "--shared-key \"$SHARED_KEY_HUB\"")) << text;
  EXPECT_TRUE(
      contains(text, "VPN_GATEWAY_ID_HUB=$(az network vnet-gateway show \\\n    --resource-group \"$RESOURCE_GROUP\""))
      << text;
  EXPECT_TRUE(contains(text,
                       "'gatewayCustomBgpIpAddresses=[{\"ipConfigurationId\":\"'\"$VPN_GATEWAY_ID_HUB\"'"
                       "/ipConfigurations/ipconfig1\",\"customBgpIpAddress\":\"169.254.21.1\"},"))
      << text;
  EXPECT_TRUE(contains(text, "require_gateway \"$VPN_GATEWAY_NAME_HUB\" enablePrivateIpAddress true")) << text;
  EXPECT_FALSE(contains(text, "GoldenTestKey")) << text;
}

TEST(AzScript, IncludedKeyIsTheSharedKeyArgumentOnly) {
  ExportOptions options;
  options.include_shared_keys = true;
  options.resource_group = "rg-net";
  const auto script = az_script(plan(golden("gcmaes256-ecp384"), options));
  const auto text = render_az_script(script, "cfg.json");
  EXPECT_TRUE(contains(text, "--shared-key GoldenTestKey0123456789abcdefXYZ")) << text;
  EXPECT_EQ(text.find("GoldenTestKey"), text.rfind("GoldenTestKey"));
  EXPECT_FALSE(contains(text, "SHARED_KEY_HUB"));
  EXPECT_TRUE(contains(text, "RESOURCE_GROUP=${RESOURCE_GROUP:-rg-net}\n")) << text;
}

TEST(AzScript, JsonCarriesArgvAndVariables) {
  const auto json = az_script_json(az_script(plan(golden("gcmaes256-ecp384"))));
  EXPECT_EQ(json["variables"][0]["name"], "RESOURCE_GROUP");
  bool secret = false;
  for (const auto& v : json["variables"]) {
    if (v["name"] == "SHARED_KEY_HUB") secret = v["secret"].get<bool>();
  }
  EXPECT_TRUE(secret);
  const auto& create = json["commands"][1]["argv"];
  EXPECT_EQ(create[3], "create");
  EXPECT_EQ(create[5], "${RESOURCE_GROUP}");
  EXPECT_EQ(create[create.size() - 1], "${SHARED_KEY_HUB}");
  EXPECT_EQ(json["commands"][1]["connection"], "hub-conn");
  EXPECT_FALSE(json["gatewayChecks"].empty());
}

TEST(ShellQuote, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(shell_quote("lgw-hub"), "lgw-hub");
  EXPECT_EQ(shell_quote("192.168.10.0/24"), "192.168.10.0/24");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "\"it's\"");
  EXPECT_EQ(shell_quote("it's $x"), "'it'\\''s $x'");
  EXPECT_EQ(shell_quote("$x"), "'$x'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellVariable, FromParameterNames) {
  EXPECT_EQ(shell_variable_for("sharedKey_hub"), "SHARED_KEY_HUB");
  EXPECT_EQ(shell_variable_for("vpnGatewayName_hub_x_2"), "VPN_GATEWAY_NAME_HUB_X_2");
  EXPECT_EQ(shell_variable_for("sharedKey_HUB"), "SHARED_KEY_HUB");
  // Only the prefix is split at its capitals: distinct parameters stay distinct.
  EXPECT_EQ(shell_variable_for("sharedKey_hubX"), "SHARED_KEY_HUBX");
  EXPECT_EQ(shell_variable_for("sharedKey_hub_x"), "SHARED_KEY_HUB_X");
}

}  // namespace
}  // namespace ergw::azure_export
