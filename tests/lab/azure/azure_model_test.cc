// The simulated Azure VPN gateway's model: the offers as Microsoft lists them
// ("About VPN devices", Default IPsec/IKE parameters, RouteBased), custom
// policies, connection modes, lifetimes, DPD, identities, policy-based
// selectors, and golden swanctl.conf files for the policy goldens' inputs.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/policy/connection_reader.h"
#include "lab/azure/azure_bird.h"
#include "lab/azure/azure_gateway.h"
#include "lab/azure/azure_lab.h"
#include "lab/azure/azure_offers.h"

namespace ergw::azure_lab {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = fs::path(ERGW_SOURCE_DIR) / "tests/gateway/policy/golden";
const fs::path kGolden = fs::path(ERGW_SOURCE_DIR) / "tests/lab/azure/golden";

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

policy::ConnectionSpec spec_of(const nlohmann::json& doc) {
  Diagnostics d;
  auto config = policy::read_configuration(doc, ".", d);
  EXPECT_TRUE(config && !d.has_errors()) << d.format();
  return config->connections.front();
}

nlohmann::json& props(nlohmann::json& doc) { return doc["connections"][0]["azure"]["properties"]; }

template <typename Offer>
std::vector<std::string> proposals(std::span<const Offer> offers) {
  std::vector<std::string> out;
  for (const auto& o : offers) out.push_back(strongswan_proposal(o));
  return out;
}

TEST(AzureOffers, MainModeOffersInMicrosoftsOrder) {
  // "1. AES256, SHA1 2. AES256, SHA256 3. AES128, SHA1 4. AES128, SHA256
  // 5. 3DES, SHA1 6. 3DES, SHA256", Diffie-Hellman "Group 2 (1024 bit)".
  EXPECT_EQ(proposals(default_ike_offers()),
            (std::vector<std::string>{"aes256-sha1-modp1024", "aes256-sha256-modp1024", "aes128-sha1-modp1024",
                                      "aes128-sha256-modp1024", "3des-sha1-modp1024", "3des-sha256-modp1024"}));
}

TEST(AzureOffers, AsInitiatorSixQuickModeOffersWithoutPfs) {
  EXPECT_EQ(proposals(default_quick_mode_offers_as_initiator()),
            (std::vector<std::string>{"aes256gcm16", "aes256-sha1", "3des-sha1", "aes256-sha256", "aes128-sha1",
                                      "3des-sha256"}));
  for (const auto& offer : default_quick_mode_offers_as_initiator()) EXPECT_EQ(offer.pfs_group, 0);
}

TEST(AzureOffers, AsResponderTwentySixQuickModeOffersInOrder) {
  const auto all = proposals(default_quick_mode_offers_as_responder());
  ASSERT_EQ(all.size(), 26u);
  // The initiator's six come first, in the same order.
  const auto initiator = proposals(default_quick_mode_offers_as_initiator());
  EXPECT_EQ(std::vector<std::string>(all.begin(), all.begin() + 6), initiator);
  // Offers by their number in Microsoft's table.
  auto offer = [&](int n) { return all[static_cast<size_t>(n - 1)]; };
  EXPECT_EQ(offer(7), "des-sha1");
  EXPECT_EQ(offer(8), "aes256-sha1-modp768");
  EXPECT_EQ(offer(10), "aes256-sha1-modp2048");
  EXPECT_EQ(offer(16), "3des-sha256-modp1024");
  EXPECT_EQ(offer(19), "aes256-sha256-modp2048");
  EXPECT_EQ(offer(20), "aes256-sha1-modp2048s256");
  EXPECT_EQ(offer(21), "aes256-sha256-modp2048s256");
  EXPECT_EQ(offer(22), "aes128-sha256");
  EXPECT_EQ(offer(25), "aes128-sha256-modp2048");
  EXPECT_EQ(offer(26), "3des-sha1-modp2048");
  // Twenty-six distinct offers.
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 26u);
}

TEST(AzureGateway, WithoutCustomPolicyItOffersItsDefaultsAndDialsWithoutPfs) {
  const auto model = model_azure_gateway(spec_of(read_json(kInputs / "azure-defaults.json")));
  EXPECT_EQ(model.ike_proposals, proposals(default_ike_offers()));
  ASSERT_EQ(model.children.size(), 1u);
  EXPECT_EQ(model.children[0].esp_proposals, proposals(default_quick_mode_offers_as_initiator()));
  EXPECT_TRUE(model.initiator_offers_only);
  // Quick mode: 27,000 s and 102,400,000 KB.
  EXPECT_EQ(model.children[0].life_time, 27000);
  EXPECT_EQ(model.children[0].life_bytes, 102400000ull * 1024);
  EXPECT_LT(model.children[0].rekey_time, model.children[0].life_time);
}

TEST(AzureGateway, CustomPolicyIsTheOnlyProposalBothWays) {
  auto model = model_azure_gateway(spec_of(read_json(kInputs / "gcmaes256-ecp384.json")));
  // GCM IKE encryption: ikeIntegrity is the PRF only.
  EXPECT_EQ(model.ike_proposals, std::vector<std::string>{"aes256gcm16-prfsha384-ecp384"});
  EXPECT_EQ(model.children[0].esp_proposals, std::vector<std::string>{"aes256gcm16-ecp384"});
  EXPECT_FALSE(model.initiator_offers_only);
  model = model_azure_gateway(spec_of(read_json(kInputs / "aes256-sha384-dh24-pfs24.json")));
  EXPECT_EQ(model.ike_proposals, std::vector<std::string>{"aes256-sha384-modp2048s256"});
  EXPECT_EQ(model.children[0].esp_proposals, std::vector<std::string>{"aes256-sha256-modp2048s256"});
  model = model_azure_gateway(spec_of(read_json(kInputs / "aes256-sha256-dh14-pfs2048.json")));
  EXPECT_EQ(model.ike_proposals, std::vector<std::string>{"aes256-sha256-modp2048"});
  EXPECT_EQ(model.children[0].esp_proposals, std::vector<std::string>{"aes256-sha256-modp2048"});
  auto doc = read_json(kInputs / "gcmaes256-ecp384.json");
  props(doc)["ipsecPolicies"][0]["saLifeTimeSeconds"] = 3600;
  props(doc)["ipsecPolicies"][0]["saDataSizeKilobytes"] = 1024;
  model = model_azure_gateway(spec_of(doc));
  EXPECT_EQ(model.children[0].life_time, 3600);
  EXPECT_EQ(model.children[0].life_bytes, 1024u * 1024u);
}

TEST(AzureGateway, IkeSaLifetimeIsFixedAt28800Seconds) {
  for (const char* input : {"azure-defaults.json", "gcmaes256-ecp384.json"}) {
    const auto model = model_azure_gateway(spec_of(read_json(kInputs / input)));
    EXPECT_EQ(model.ike_rekey_time + model.ike_over_time, 28800) << input;
    EXPECT_GT(model.ike_rekey_time, 0) << input;
  }
}

TEST(AzureGateway, ConnectionModes) {
  struct Expect {
    const char* mode;
    bool dials;
    bool accepts;
  };
  for (auto e : {Expect{"Default", true, true}, Expect{"InitiatorOnly", true, false},
                 Expect{"ResponderOnly", false, true}}) {
    auto doc = read_json(kInputs / "gcmaes256-ecp384.json");
    props(doc)["connectionMode"] = e.mode;
    const auto model = model_azure_gateway(spec_of(doc));
    EXPECT_EQ(model.dials, e.dials) << e.mode;
    EXPECT_EQ(model.accepts_initiation, e.accepts) << e.mode;
    EXPECT_EQ(model.children[0].azure_initiates, e.dials) << e.mode;
    const auto conf = render_azure_swanctl_conf(model, false);
    // The lab's watcher dials for Azure, never charon's start or close actions.
    EXPECT_EQ(conf.find("start_action = start"), std::string::npos) << e.mode;
    EXPECT_EQ(conf.find("close_action = start"), std::string::npos) << e.mode;
    EXPECT_NE(conf.find(e.dials ? "dpd_action = restart" : "dpd_action = clear"), std::string::npos) << e.mode;
    const auto settings = render_azure_charon_settings(model);
    EXPECT_EQ(settings.find("initiator_only = yes") != std::string::npos, !e.accepts) << e.mode;
    EXPECT_EQ(settings.find("retry_initiate_interval") != std::string::npos, e.dials) << e.mode;
  }
}

TEST(AzureGateway, DpdGivesUpWithinTheTimeout) {
  for (int timeout : {9, 30, 45, 120, 3600}) {
    auto doc = read_json(kInputs / "gcmaes256-ecp384.json");
    props(doc)["dpdTimeoutSeconds"] = timeout;
    const auto model = model_azure_gateway(spec_of(doc));
    double total = 0, wait = model.retransmit_timeout;
    for (int i = 0; i <= model.retransmit_tries; ++i) {
      total += wait;
      wait *= model.retransmit_base;
    }
    EXPECT_LE(static_cast<double>(model.dpd_delay) + total, timeout + 0.5) << timeout;
    EXPECT_GE(model.dpd_delay, 1) << timeout;
  }
}

TEST(AzureGateway, IdentityIsItsTunnelAddressAndItAcceptsAnyPeerIdentity) {
  auto spec = spec_of(read_json(kInputs / "gcmaes256-ecp384.json"));
  auto model = model_azure_gateway(spec);
  EXPECT_EQ(model.local_address, "172.16.0.2");
  EXPECT_EQ(model.local_id, "172.16.0.2");
  EXPECT_EQ(model.remote_id, "%any");
  model = model_azure_gateway(spec, {.identity = "203.0.113.10"});
  EXPECT_EQ(model.local_id, "203.0.113.10");
  EXPECT_EQ(model.local_address, "172.16.0.2");
  const auto conf = render_azure_swanctl_conf(model, false);
  EXPECT_NE(conf.find("id-1 = \"203.0.113.10\""), std::string::npos) << conf;
}

// Active-active: each instance is a separate IKE peer on its own tunnel
// address, presenting that address, with the same key and proposals; with
// BGP each speaks from its own address (GatewaySubnet or APIPA, in instance
// order). The lab runs the second instance in azure-gw-2 on 172.16.0.6.
TEST(AzureGateway, ActiveActiveInstancesAreSeparatePeersEachWithItsOwnAddresses) {
  std::ifstream in(fs::path(ERGW_SOURCE_DIR) / "examples/lab-bgp.json");
  auto doc = nlohmann::json::parse(in);
  auto& gateway = doc["connections"][0]["azureGateway"];
  gateway["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.6"};
  gateway["activeActive"] = true;
  gateway["bgpSettings"]["bgpPeeringAddress"] = "10.0.1.30,10.0.1.31";
  const auto spec = spec_of(doc);
  const auto first = model_azure_gateway(spec);
  AzureGatewayOptions instance_1;
  instance_1.instance = 1;
  const auto second = model_azure_gateway(spec, instance_1);
  EXPECT_EQ(first.local_address, "172.16.0.2");
  EXPECT_EQ(second.local_address, "172.16.0.6");
  EXPECT_EQ(second.local_id, "172.16.0.6");
  EXPECT_EQ(second.connection, first.connection) << "both tunnels are part of the same connection";
  EXPECT_EQ(second.ike_proposals, first.ike_proposals);
  EXPECT_EQ(second.shared_key.reveal(), first.shared_key.reveal());
  EXPECT_EQ(azure_bgp_side(spec, 0)->address.to_string(), "10.0.1.30");
  EXPECT_EQ(azure_bgp_side(spec, 1)->address.to_string(), "10.0.1.31");
  EXPECT_FALSE(azure_bgp_side(spec, 2).has_value());

  auto apipa = doc;
  apipa["connections"][0]["azure"]["properties"]["gatewayCustomBgpIpAddresses"] = {
      {{"ipConfigurationId", "ipconfig1"}, {"customBgpIpAddress", "169.254.21.1"}},
      {{"ipConfigurationId", "ipconfig2"}, {"customBgpIpAddress", "169.254.22.1"}}};
  const auto apipa_spec = spec_of(apipa);
  EXPECT_EQ(azure_bgp_side(apipa_spec, 1)->address.to_string(), "169.254.22.1");
  EXPECT_TRUE(azure_bgp_side(apipa_spec, 1)->apipa) << "Azure does not open sessions from APIPA addresses";

  Diagnostics d;
  auto config = policy::read_configuration(doc, ".", d);
  ASSERT_TRUE(config);
  EXPECT_TRUE(check_fits_lab(*config, lab::LabAddresses{}));
  config->connections[0].gateway.tunnel_ip_addresses[1] = *IpAddress::parse("172.16.0.9");
  const auto refused = check_fits_lab(*config, lab::LabAddresses{});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("tunnelIpAddresses"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("172.16.0.6"), std::string::npos) << refused.error();
}

TEST(AzureGateway, PolicyBasedIsOneChildPerPairProposedOnlyWhenItDials) {
  auto doc = read_json(kInputs / "policy-based.json");
  props(doc)["trafficSelectorPolicies"] = {
      {{"localAddressRanges", {"10.0.1.0/24", "10.0.2.0/24"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}}};
  auto model = model_azure_gateway(spec_of(doc));
  ASSERT_EQ(model.children.size(), 3u);
  EXPECT_EQ(model.children[0].local_ts, std::vector<std::string>{"10.0.1.0/24"});
  EXPECT_EQ(model.children[0].remote_ts, std::vector<std::string>{"192.168.10.0/24"});
  EXPECT_EQ(model.children[1].local_ts, std::vector<std::string>{"10.0.2.0/24"});
  EXPECT_TRUE(model.children[0].azure_initiates);
  EXPECT_TRUE(model.children[1].azure_initiates);
  // It accepts whatever the peer proposes: a catch-all it never proposes itself.
  EXPECT_FALSE(model.children[2].azure_initiates);
  EXPECT_EQ(model.children[2].local_ts, (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
  // Without trafficSelectorPolicies: the VNet's prefixes x the on-prem prefixes.
  props(doc).erase("trafficSelectorPolicies");
  doc["connections"][0]["azureGateway"]["vnetPrefixes"] = {"10.0.1.0/24", "10.0.2.0/24"};
  doc["connections"][0]["local"]["prefixes"] = {"192.168.10.0/24", "192.168.20.0/24"};
  model = model_azure_gateway(spec_of(doc));
  EXPECT_EQ(model.children.size(), 5u);
  // ResponderOnly: it proposes nothing.
  props(doc)["connectionMode"] = "ResponderOnly";
  model = model_azure_gateway(spec_of(doc));
  for (const auto& child : model.children) EXPECT_FALSE(child.azure_initiates) << child.name;
}

TEST(AzureGateway, RouteBasedIsAnyToAny) {
  const auto model = model_azure_gateway(spec_of(read_json(kInputs / "gcmaes256-ecp384.json")));
  ASSERT_EQ(model.children.size(), 1u);
  EXPECT_EQ(model.children[0].name, "hub");
  EXPECT_EQ(model.children[0].local_ts, (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
}

// The lab's compromise for several route-based connections on one
// kernel-libipsec gateway: Azure's side selects the VNet, the peer's stays any.
TEST(AzureGateway, RouteBasedSelectsTheVnetWhenTheLabAsks) {
  const auto doc = read_json(kInputs / "gcmaes256-ecp384.json");
  AzureGatewayOptions options;
  options.vnet_selectors = true;
  const auto spec = spec_of(doc);
  const auto model = model_azure_gateway(spec, options);
  ASSERT_EQ(model.children.size(), 1u);
  std::vector<std::string> vnets;
  for (const auto& p : spec.gateway.vnet_prefixes) vnets.push_back(p.to_string());
  ASSERT_FALSE(vnets.empty());
  EXPECT_EQ(model.children[0].local_ts, vnets);
  EXPECT_EQ(model.children[0].remote_ts, (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
}

TEST(AzureGateway, TheKeyIsShownOnlyWhenAsked) {
  const auto model = model_azure_gateway(spec_of(read_json(kInputs / "gcmaes256-ecp384.json")));
  const std::string key = model.shared_key.reveal();
  EXPECT_EQ(render_azure_swanctl_conf(model, false).find(key), std::string::npos);
  EXPECT_NE(render_azure_swanctl_conf(model, false).find("secret = <redacted>"), std::string::npos);
  EXPECT_EQ(render_azure_swanctl_conf(model, true).find(key), std::string::npos);  // hex, not the text
  EXPECT_NE(render_azure_swanctl_conf(model, true).find("secret = 0x"), std::string::npos);
}

// What the simulated gateway's charon is given for each policy golden input.
// Regenerate with ERGW_UPDATE_GOLDEN=1 after a deliberate change; review the diff.
TEST(AzureGateway, GoldenConfigurations) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kInputs)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto model = model_azure_gateway(spec_of(read_json(entry.path())));
    const std::string actual =
        render_azure_swanctl_conf(model, false) + "\n# strongswan.conf:\n" + render_azure_charon_settings(model);
    const auto golden = kGolden / (entry.path().stem().string() + ".azure.swanctl.conf");
    if (std::getenv("ERGW_UPDATE_GOLDEN") != nullptr) {
      std::ofstream(golden) << actual;
    } else {
      ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with ERGW_UPDATE_GOLDEN=1";
      std::ifstream in(golden);
      EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), actual);
    }
    ++count;
  }
  EXPECT_GE(count, 7);
}

}  // namespace
}  // namespace ergw::azure_lab
