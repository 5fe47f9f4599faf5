// The many-connection lab's configuration (lab/azure/many_connections.h) and
// the lab's reading of `swanctl --list-sas` (parse_sa_listing): no root.
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/policy/connection_reader.h"
#include "gateway/policy/validator.h"
#include "lab/azure/azure_gateway.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/many_connections.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;

nlohmann::json lab_example() {
  std::ifstream in(fs::path(ERGW_SOURCE_DIR) / "examples/lab.json");
  return nlohmann::json::parse(in);
}

TEST(ManyConnections, HundredDistinctConnectionsThatErgwAcceptsAndThatFitTheLab) {
  auto doc = many_connections(lab_example(), 100, "ResponderOnly");
  ASSERT_TRUE(doc) << doc.error();
  Diagnostics d;
  auto config = policy::read_configuration(doc.value(), ".", d);
  ASSERT_TRUE(config && !d.has_errors()) << d.format();
  policy::validate_configuration(*config, d);
  EXPECT_FALSE(d.has_errors()) << d.format();
  ASSERT_EQ(config->connections.size(), 100u);
  EXPECT_TRUE(check_fits_lab(*config, lab::LabAddresses{}));

  std::set<std::string> names, tunnels, prefixes, keys;
  for (const auto& c : config->connections) {
    names.insert(c.name);
    tunnels.insert(c.gateway.tunnel_ip_addresses.front().to_string());
    prefixes.insert(c.gateway.vnet_prefixes.front().to_string());
    keys.insert(c.azure.shared_key.reveal());
    EXPECT_EQ(c.azure.connection_mode, policy::ConnectionMode::ResponderOnly);
  }
  EXPECT_EQ(names.size(), 100u);
  EXPECT_EQ(tunnels.size(), 100u);
  EXPECT_EQ(prefixes.size(), 100u);
  EXPECT_EQ(keys.size(), 100u);
  EXPECT_EQ(config->connections.front().name, "azure-hub-001");
  EXPECT_EQ(config->connections.front().gateway.tunnel_ip_addresses.front().to_string(), "172.16.0.2");
  EXPECT_EQ(config->connections.back().name, "azure-hub-100");
  EXPECT_EQ(config->connections.back().gateway.tunnel_ip_addresses.front().to_string(), "172.16.1.99");
  EXPECT_EQ(config->connections.back().gateway.vnet_prefixes.front().to_string(), "10.1.99.0/24");

  // The simulated Azure gateway answers each on its own address with its own key.
  std::vector<AzureGatewayConfig> models;
  for (const auto& c : config->connections) models.push_back(model_azure_gateway(c));
  const auto conf = render_azure_swanctl_conf(models, /*reveal_secret=*/false);
  EXPECT_NE(conf.find("local_addrs = 172.16.1.42\n"), std::string::npos);
  EXPECT_NE(conf.find("    ike-azure-hub-043 {\n        id-1 = \"172.16.1.42\"\n"), std::string::npos);
  // One charon playing 100 gateways has the half-open limits of 100.
  const auto settings = render_azure_charon_settings(models.front(), 100);
  EXPECT_NE(settings.find("    block_threshold = 500\n"), std::string::npos) << settings;
  EXPECT_NE(settings.find("    cookie_threshold = 1000\n"), std::string::npos) << settings;
  EXPECT_EQ(render_azure_charon_settings(models.front(), 1).find("threshold"), std::string::npos);
  EXPECT_EQ(render_azure_swanctl_conf(models.front(), false),
            render_azure_swanctl_conf(std::vector<AzureGatewayConfig>{models.front()}, false));
}

TEST(ManyConnections, KeepsTheBaseModeUnlessToldAndRefusesWhatTheLabDoesNotModel) {
  auto doc = many_connections(lab_example(), 2);
  ASSERT_TRUE(doc) << doc.error();
  EXPECT_EQ(doc.value()["connections"][1]["azure"]["properties"]["connectionMode"], "Default");
  for (int count : {0, -1, kMaxLabConnections + 1}) {
    auto bad = many_connections(lab_example(), count);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("connections: " + std::to_string(count) + " is out of range"), std::string::npos);
  }
  auto bgp = lab_example();
  bgp["connections"][0]["azure"]["properties"]["enableBgp"] = true;
  auto refused = many_connections(bgp, 3);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("enableBgp"), std::string::npos);
  auto policy_based = lab_example();
  policy_based["connections"][0]["azure"]["properties"]["usePolicyBasedTrafficSelectors"] = true;
  EXPECT_FALSE(many_connections(policy_based, 3));
  EXPECT_FALSE(many_connections(nlohmann::json::object(), 3));
}

TEST(SaListing, ConnectionsTheirIkeSasAndChildren) {
  const std::string text =
      "hub-001: #3, ESTABLISHED, IKEv2, 0e3b5c7d9f1a2b3c_i* 9d8c7b6a5f4e3d2c_r\n"
      "  local  '172.16.0.1' @ 172.16.0.1[4500]\n"
      "  remote '172.16.0.2' @ 172.16.0.2[4500]\n"
      "  AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384\n"
      "  established 5s ago, rekeying in 25915s\n"
      "  hub-001: #4, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256\n"
      "    installed 5s ago, rekeying in 25645s, expires in 26995s\n"
      "hub-010: #7, CONNECTING, IKEv2, 1111111111111111_i 0000000000000000_r\n"
      "hub-010: #9, ESTABLISHED, IKEv2, 2222222222222222_i 3333333333333333_r*\n"
      "  hub-010-pair1: #10, reqid 2, INSTALLING, TUNNEL-in-UDP, ESP:AES_GCM_16-256\n";
  const auto sas = parse_sa_listing(text);
  ASSERT_EQ(sas.size(), 2u);
  const auto& a = sas.at("hub-001");
  EXPECT_TRUE(a.established);
  EXPECT_EQ(a.children, (std::set<std::string>{"hub-001"}));
  EXPECT_EQ(a.installed, (std::set<std::string>{"hub-001"}));
  EXPECT_EQ(a.ike_sas, (std::set<std::string>{"#3 0e3b5c7d9f1a2b3c_i 9d8c7b6a5f4e3d2c_r"}));
  EXPECT_EQ(a.child_sas, (std::set<std::string>{"hub-001 #4, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256"}));
  const auto& b = sas.at("hub-010");
  EXPECT_TRUE(b.established);
  EXPECT_EQ(b.children, (std::set<std::string>{"hub-010-pair1"}));
  EXPECT_TRUE(b.installed.empty());
  EXPECT_EQ(b.ike_sas.size(), 2u);
  EXPECT_TRUE(parse_sa_listing("no IKE_SAs\n").empty());
}

}  // namespace
}  // namespace ergw::azure_lab
