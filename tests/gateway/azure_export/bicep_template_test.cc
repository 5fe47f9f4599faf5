// The Bicep file: the same resources and values as the ARM template, in
// Bicep's syntax.
#include "gateway/azure_export/bicep_template.h"

#include <gtest/gtest.h>

#include "tests/common/text_contains.h"
#include "tests/gateway/azure_export/export_test_support.h"

namespace ergw::azure_export {
namespace {

using testing::golden;
using testing::plan;

using ergw::testing::contains;

TEST(BicepTemplate, DeclaresTheGatewayAsExistingAndTheNewResources) {
  const auto b = bicep_template(plan(golden("gcmaes256-ecp384")), "test.json");
  EXPECT_TRUE(contains(b, "param location string = resourceGroup().location\n")) << b;
  EXPECT_TRUE(contains(b, "param vpnGatewayName_hub string\n")) << b;
  EXPECT_TRUE(contains(b, "@secure()\n@description('The PSK of connection hub-conn")) << b;
  EXPECT_TRUE(contains(b, "param sharedKey_hub string\n")) << b;
  EXPECT_TRUE(contains(b,
                       "resource vpnGateway_hub 'Microsoft.Network/virtualNetworkGateways@2024-05-01' existing = {\n"
                       "  name: vpnGatewayName_hub\n}\n"))
      << b;
  EXPECT_TRUE(contains(b,
                       "resource lgw_hub 'Microsoft.Network/localNetworkGateways@2024-05-01' = {\n"
                       "  name: 'lgw-hub'\n  location: location\n  properties: {\n"
                       "    gatewayIpAddress: '172.16.0.1'\n    localNetworkAddressSpace: {\n"
                       "      addressPrefixes: [\n        '192.168.10.0/24'\n      ]\n    }\n  }\n}\n"))
      << b;
  EXPECT_TRUE(contains(b,
                       "resource connection_hub 'Microsoft.Network/connections@2024-05-01' = {\n"
                       "  name: 'hub-conn'\n"))
      << b;
  EXPECT_TRUE(contains(b, "    virtualNetworkGateway1: {\n      id: vpnGateway_hub.id\n      properties: {}\n    }\n"))
      << b;
  EXPECT_TRUE(contains(b, "    localNetworkGateway2: {\n      id: lgw_hub.id\n")) << b;
  EXPECT_TRUE(contains(b, "    sharedKey: sharedKey_hub\n")) << b;
  EXPECT_TRUE(contains(b, "        dhGroup: 'ECP384'\n        pfsGroup: 'ECP384'\n")) << b;
  EXPECT_TRUE(
      contains(b, "    dpdTimeoutSeconds: 45\n    connectionMode: 'Default'\n    useLocalAzureIpAddress: true\n"))
      << b;
  EXPECT_FALSE(contains(b, "GoldenTestKey"));
}

TEST(BicepTemplate, IncludedKeyIsALiteralAndApipaUsesTheGatewaySymbol) {
  ExportOptions options;
  options.include_shared_keys = true;
  const auto b = bicep_template(plan(golden("active-active-bgp-apipa"), options), "test.json");
  EXPECT_TRUE(contains(b, "    sharedKey: 'GoldenTestKey0123456789abcdefXYZ'\n")) << b;
  EXPECT_FALSE(contains(b, "@secure()")) << b;
  EXPECT_TRUE(contains(b, "ipConfigurationId: '${vpnGateway_hub.id}/ipConfigurations/ipconfig1'\n")) << b;
  EXPECT_TRUE(contains(b, "// The existing VPN gateways must already be so")) << b;
}

TEST(BicepTemplate, StringsAreEscaped) {
  EXPECT_EQ(bicep_string("it's"), "'it\\'s'");
  EXPECT_EQ(bicep_string("a\\b"), "'a\\\\b'");
  EXPECT_EQ(bicep_string("${x}"), "'\\${x}'");
  EXPECT_EQ(bicep_string("$x"), "'$x'");
}

}  // namespace
}  // namespace ergw::azure_export
