// The compiler: proposals, lifetimes, DPD, connection modes, selectors (one
// CHILD SA per prefix pair when policy-based), interface ids, default offers,
// identities, BGP intent, and secrets.
#include <gtest/gtest.h>

#include "gateway/policy/azure_defaults.h"
#include "gateway/policy/compiler.h"
#include "gateway/policy/swanctl_renderer.h"
#include "policy_test_support.h"

namespace ergw::policy {
namespace {

using testing::with_policy;

CompiledConfiguration compile_json(const nlohmann::json& doc) {
  auto loaded = testing::load(doc);
  EXPECT_TRUE(loaded.config);
  EXPECT_FALSE(loaded.diagnostics.has_errors()) << testing::dump(loaded.diagnostics);
  return compile(*loaded.config);
}

TEST(Compiler, CustomPolicyBecomesOneProposalEachWay) {
  auto out = compile_json(with_policy(testing::strong_policy()));
  ASSERT_EQ(out.connections.size(), 1u);
  const auto& ike = out.connections[0];
  EXPECT_EQ(ike.proposals, std::vector<std::string>{"aes256-sha256-modp2048"});
  ASSERT_EQ(ike.children.size(), 1u);
  EXPECT_EQ(ike.children[0].esp_proposals, std::vector<std::string>{"aes256gcm16-modp2048"});
  EXPECT_EQ(ike.local_addrs, std::vector<std::string>{"172.16.0.1"});
  EXPECT_EQ(ike.remote_addrs, std::vector<std::string>{"172.16.0.2"});
  EXPECT_EQ(ike.version, 2);
}

// What ergwd's PFS probe needs: the group in Azure's spelling ("None" with
// Azure's defaults, which never rekey with PFS) and whether to probe.
TEST(Compiler, PfsGroupAndProbeSettingReachTheConnection) {
  auto out = compile_json(with_policy(testing::strong_policy()));
  EXPECT_EQ(out.connections[0].pfs_group, "PFS2048");
  EXPECT_TRUE(out.connections[0].pfs_probe);
  auto doc = testing::valid_config();
  doc["appliance"]["pfsProbe"] = false;
  out = compile_json(doc);
  EXPECT_EQ(out.connections[0].pfs_group, "None");
  EXPECT_FALSE(out.connections[0].pfs_probe);
  doc["connections"][0]["pfsProbe"] = true;
  EXPECT_TRUE(compile_json(doc).connections[0].pfs_probe);
}

TEST(Compiler, DefaultOffersInAzuresOrder) {
  auto out = compile_json(testing::valid_config());
  const auto& ike = out.connections[0];
  EXPECT_EQ(ike.proposals, (std::vector<std::string>{"aes256-sha1-modp1024", "aes256-sha256-modp1024",
                                                     "aes128-sha1-modp1024", "aes128-sha256-modp1024",
                                                     "3des-sha1-modp1024", "3des-sha256-modp1024"}));
  // Azure initiates without PFS: ergw's ESP offers carry no group.
  EXPECT_EQ(ike.children[0].esp_proposals,
            (std::vector<std::string>{"aes256gcm16", "aes256-sha1", "3des-sha1", "aes256-sha256", "aes128-sha1",
                                      "3des-sha256"}));
  EXPECT_EQ(ike.children[0].life_time, 27000);
  EXPECT_EQ(ike.children[0].life_bytes, 102400000ull * 1024);
  EXPECT_EQ(azure_default_esp_initiator_offers(), ike.children[0].esp_proposals);
}

TEST(Compiler, ChildLifetimesFromPolicy) {
  auto l = child_lifetimes(27000, 102400000);
  EXPECT_EQ(l.life_time, 27000);
  EXPECT_EQ(l.rekey_time, 24300);
  EXPECT_EQ(l.rand_time, 1350);
  EXPECT_LT(l.rekey_time, l.life_time);
  EXPECT_EQ(l.life_bytes, 104857600000ull);
  EXPECT_EQ(l.rekey_bytes, 94371840000ull);
  auto shortest = child_lifetimes(300, 1024);
  EXPECT_EQ(shortest.rekey_time, 270);
  EXPECT_EQ(shortest.rand_time, 15);
  EXPECT_EQ(shortest.life_bytes, 1048576u);
  EXPECT_GT(shortest.rekey_time - shortest.rand_time, 0);
}

TEST(Compiler, IkeRekeyNeverRacesAzuresFixedLifetime) {
  auto l = ike_lifetimes();
  EXPECT_LE(l.rekey_time, kAzureIkeSaLifetimeSeconds * 9 / 10);  // before Azure's own 90 % point
  EXPECT_LT(l.rekey_time + l.over_time, kAzureIkeSaLifetimeSeconds);
  EXPECT_GT(l.rekey_time - l.rand_time, 0);
  auto out = compile_json(with_policy(testing::strong_policy()));
  EXPECT_EQ(out.connections[0].rekey_time, l.rekey_time);
  EXPECT_EQ(out.connections[0].reauth_time, 0);
}

TEST(Compiler, DpdAndRetransmissionFitTheTimeout) {
  for (int timeout : {9, 30, 45, 120, 3600}) {
    auto s = charon_settings_for_dpd(timeout);
    double total = 0, wait = s.retransmit_timeout;
    for (int i = 0; i <= s.retransmit_tries; ++i) {
      total += wait;
      wait *= s.retransmit_base;
    }
    EXPECT_LE(static_cast<double>(dpd_delay_for(timeout)) + total, timeout + 0.5) << timeout;
    EXPECT_GE(dpd_delay_for(timeout), 3);
  }
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 30;
  auto out = compile_json(doc);
  EXPECT_EQ(out.connections[0].dpd_delay, 10);
}

TEST(Compiler, ConnectionModes) {
  struct Expect {
    const char* mode;
    const char* start;   // ergw dials
    bool peer_dials;     // Azure dials too (ergw status: "both dial")
  };
  for (auto e : {Expect{"Default", "start", true}, Expect{"InitiatorOnly", "none", true},
                 Expect{"ResponderOnly", "start", false}}) {
    auto doc = with_policy(testing::strong_policy());
    doc["connections"][0]["azure"]["properties"]["connectionMode"] = e.mode;
    const auto ike = compile_json(doc).connections[0];
    const auto& child = ike.children[0];
    EXPECT_EQ(child.start_action, e.start) << e.mode;
    EXPECT_EQ(ike.peer_dials, e.peer_dials) << e.mode;
    EXPECT_EQ(child.dpd_action, std::string(e.start) == "start" ? "restart" : "clear") << e.mode;
    EXPECT_EQ(child.close_action, std::string(e.start) == "start" ? "start" : "none") << e.mode;
  }
}

TEST(Compiler, RouteBasedIsAnyToAnyWithInterfaceIds) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"].push_back(doc["connections"][0]);
  doc["connections"][1]["name"] = "second";
  doc["connections"][0]["interfaceId"] = 2;
  auto out = compile_json(doc);
  ASSERT_EQ(out.connections.size(), 2u);
  EXPECT_EQ(out.connections[0].children[0].local_ts, (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
  EXPECT_EQ(out.connections[0].children[0].remote_ts, (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
  EXPECT_EQ(out.connections[0].children[0].if_id, 2u);
  EXPECT_EQ(out.connections[1].children[0].if_id, 1u);  // lowest free
}

// Azure keys one CHILD SA per pair of an on-prem and a VNet prefix; so does ergw.
TEST(Compiler, PolicyBasedSelectorsAreOneChildPerPrefixPair) {
  auto doc = with_policy(testing::strong_policy());
  auto& p = doc["connections"][0]["azure"]["properties"];
  p["usePolicyBasedTrafficSelectors"] = true;
  p["enableBgp"] = false;
  p["trafficSelectorPolicies"] = {
      {{"localAddressRanges", {"10.0.1.0/24", "10.0.2.0/24"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}},
      {{"localAddressRanges", {"10.0.3.0/24"}}, {"remoteAddressRanges", {"192.168.20.0/24"}}},
      // the same pair again: one CHILD SA
      {{"localAddressRanges", {"10.0.1.0/24"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}}};
  auto out = compile_json(doc);
  const auto& children = out.connections[0].children;
  ASSERT_EQ(children.size(), 3u);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"192.168.10.0/24", "10.0.1.0/24"}, {"192.168.10.0/24", "10.0.2.0/24"}, {"192.168.20.0/24", "10.0.3.0/24"}};
  // Each CHILD is named after its pair, so a missing one says which prefixes
  // have no tunnel ('.' is not allowed in a strongSwan name).
  const std::vector<std::string> names = {"hub-192_168_10_0/24-10_0_1_0/24", "hub-192_168_10_0/24-10_0_2_0/24",
                                          "hub-192_168_20_0/24-10_0_3_0/24"};
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(children[i].name, names[i]);
    // Azure's "local" is the VNet: ergw's remote.
    EXPECT_EQ(children[i].local_ts, std::vector<std::string>{pairs[i].first});
    EXPECT_EQ(children[i].remote_ts, std::vector<std::string>{pairs[i].second});
    EXPECT_EQ(children[i].if_id, 0u);
    EXPECT_EQ(children[i].esp_proposals, children[0].esp_proposals);
  }
  // Every VNet side is routed into the tunnel (for a TUN data plane), once.
  ASSERT_EQ(out.routes.size(), 3u);
  EXPECT_EQ(out.routes[1].prefix.to_string(), "10.0.2.0/24");
  EXPECT_EQ(out.routes[1].if_id, 0u);

  // Without explicit selectors: Azure's implicit every on-prem x every VNet prefix.
  p.erase("trafficSelectorPolicies");
  doc["connections"][0]["local"]["prefixes"] = {"192.168.10.0/24", "192.168.20.0/24"};
  doc["connections"][0]["azureGateway"]["vnetPrefixes"] = {"10.0.0.0/16", "10.1.0.0/16"};
  auto implicit = compile_json(doc);
  const auto& four = implicit.connections[0].children;
  ASSERT_EQ(four.size(), 4u);
  EXPECT_EQ(four[0].local_ts, std::vector<std::string>{"192.168.10.0/24"});
  EXPECT_EQ(four[0].remote_ts, std::vector<std::string>{"10.0.0.0/16"});
  EXPECT_EQ(four[3].local_ts, std::vector<std::string>{"192.168.20.0/24"});
  EXPECT_EQ(four[3].remote_ts, std::vector<std::string>{"10.1.0.0/16"});
  // One pair is named after its pair too; IPv6 prefixes lose their ':'.
  doc["connections"][0]["local"]["prefixes"] = {"192.168.10.0/24"};
  doc["connections"][0]["azureGateway"]["vnetPrefixes"] = {"10.0.0.0/16"};
  auto one = compile_json(doc);
  ASSERT_EQ(one.connections[0].children.size(), 1u);
  EXPECT_EQ(one.connections[0].children[0].name, "hub-192_168_10_0/24-10_0_0_0/16");
  doc["connections"][0]["local"]["prefixes"] = {"2001:db8:10::/48"};
  doc["connections"][0]["azureGateway"]["vnetPrefixes"] = {"2001:db8:ff::/48"};
  doc["connections"][0]["local"]["address"] = "2001:db8::1";
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"2001:db8::2"};
  auto v6 = compile_json(doc);
  ASSERT_EQ(v6.connections[0].children.size(), 1u);
  EXPECT_EQ(v6.connections[0].children[0].name, "hub-2001_db8_10__/48-2001_db8_ff__/48");
}

TEST(Compiler, IdentitiesDefaultToTheAddressesAndCanBeSet) {
  auto doc = with_policy(testing::strong_policy());
  auto out = compile_json(doc);
  EXPECT_EQ(out.connections[0].local_id, "172.16.0.1");
  EXPECT_EQ(out.connections[0].remote_id, "172.16.0.2");
  doc["connections"][0]["local"]["ikeIdentity"] = "onprem.example.com";
  doc["connections"][0]["azureGateway"]["ikeIdentity"] = "203.0.113.10";
  out = compile_json(doc);
  EXPECT_EQ(out.connections[0].local_id, "onprem.example.com");
  EXPECT_EQ(out.connections[0].remote_id, "203.0.113.10");
  EXPECT_EQ(out.connections[0].remote_addrs, std::vector<std::string>{"172.16.0.2"});
  // charon finds the key by the identities.
  EXPECT_EQ(out.secrets[0].owners, (std::vector<std::string>{"onprem.example.com", "203.0.113.10"}));
  const auto text = render_swanctl_conf(out, SecretDisplay::redacted);
  EXPECT_NE(text.find("id = onprem.example.com"), std::string::npos) << text;
  // Active-active: one identity per instance.
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  doc["connections"][0]["azureGateway"]["ikeIdentity"] = {"203.0.113.10", "203.0.113.11"};
  out = compile_json(doc);
  ASSERT_EQ(out.connections.size(), 2u);
  EXPECT_EQ(out.connections[1].remote_id, "203.0.113.11");
  EXPECT_EQ(out.secrets[1].owners, (std::vector<std::string>{"onprem.example.com", "203.0.113.11"}));
  // %any: no owner for that side.
  doc["connections"][0]["azureGateway"]["ikeIdentity"] = "%any";
  out = compile_json(doc);
  EXPECT_EQ(out.connections[1].remote_id, "%any");
  EXPECT_EQ(out.secrets[1].owners, std::vector<std::string>{"onprem.example.com"});
}

TEST(Compiler, ActiveActiveGivesOneIkeConnectionPerInstance) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  doc["connections"][0]["azureGateway"]["activeActive"] = true;
  auto out = compile_json(doc);
  ASSERT_EQ(out.connections.size(), 2u);
  EXPECT_EQ(out.connections[0].name, "hub-i0");
  EXPECT_EQ(out.connections[1].remote_addrs, std::vector<std::string>{"172.16.0.3"});
  EXPECT_NE(out.connections[0].children[0].if_id, out.connections[1].children[0].if_id);
  EXPECT_EQ(out.secrets.size(), 2u);
}

TEST(Compiler, ActiveActiveStaticRoutesGoIntoBothTunnelsOrPreferOne) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  doc["connections"][0]["azureGateway"]["activeActive"] = true;
  doc["connections"][0]["azure"]["properties"]["enableBgp"] = false;
  auto out = compile_json(doc);
  ASSERT_EQ(out.routes.size(), 2u);
  EXPECT_EQ(out.routes[0].connection, "hub-i0");
  EXPECT_EQ(out.routes[1].connection, "hub-i1");
  EXPECT_EQ(out.routes[0].prefix, out.routes[1].prefix);
  EXPECT_EQ(out.routes[0].preference, 0);
  EXPECT_EQ(out.routes[1].preference, 0) << "ECMP by default";
  doc["connections"][0]["preferredInstance"] = 1;
  out = compile_json(doc);
  EXPECT_EQ(out.routes[0].preference, 1) << "instance 0 is the backup";
  EXPECT_EQ(out.routes[1].preference, 0);
  doc["connections"][0]["preferredInstance"] = "none";
  out = compile_json(doc);
  EXPECT_EQ(out.routes[0].preference, 0);
  EXPECT_EQ(out.routes[1].preference, 0);
}

TEST(Compiler, ActiveActiveWithBgpGivesOneSessionPerInstanceOverItsOwnTunnel) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  doc["connections"][0]["azureGateway"]["activeActive"] = true;
  // GatewaySubnet: Azure prints both instances' addresses in one string.
  doc["connections"][0]["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.0.255.4,10.0.255.5";
  auto out = compile_json(doc);
  ASSERT_EQ(out.bgp_peers.size(), 2u);
  EXPECT_EQ(out.bgp_peers[0].connection, "hub-i0");
  EXPECT_EQ(out.bgp_peers[1].connection, "hub-i1");
  EXPECT_EQ(out.bgp_peers[0].peer_address.to_string(), "10.0.255.4");
  EXPECT_EQ(out.bgp_peers[1].peer_address.to_string(), "10.0.255.5");
  EXPECT_EQ(out.bgp_peers[0].if_id, out.connections[0].children[0].if_id);
  EXPECT_EQ(out.bgp_peers[1].if_id, out.connections[1].children[0].if_id);
  EXPECT_EQ(out.bgp_peers[0].preference + out.bgp_peers[1].preference, 0) << "ECMP by default";
  doc["connections"][0]["preferredInstance"] = 0;
  out = compile_json(doc);
  EXPECT_EQ(out.bgp_peers[0].preference, 0);
  EXPECT_EQ(out.bgp_peers[1].preference, 1);
  // APIPA: the connection's custom address for each instance.
  doc["connections"][0]["azure"]["properties"]["gatewayCustomBgpIpAddresses"] = {
      {{"ipConfigurationId", "x/ipConfigurations/default"}, {"customBgpIpAddress", "169.254.21.1"}},
      {{"ipConfigurationId", "x/ipConfigurations/activeActive"}, {"customBgpIpAddress", "169.254.22.1"}}};
  doc["connections"][0]["local"]["bgpPeeringAddress"] = "169.254.21.2";
  out = compile_json(doc);
  ASSERT_EQ(out.bgp_peers.size(), 2u);
  EXPECT_EQ(out.bgp_peers[0].peer_address.to_string(), "169.254.21.1");
  EXPECT_EQ(out.bgp_peers[1].peer_address.to_string(), "169.254.22.1");
  EXPECT_TRUE(out.bgp_peers[0].apipa && out.bgp_peers[1].apipa);
}

TEST(Compiler, RoutesAndBgpIntent) {
  auto doc = with_policy(testing::strong_policy());
  auto out = compile_json(doc);  // BGP on: no static VNet routes, one BGP peer
  EXPECT_TRUE(out.routes.empty());
  ASSERT_EQ(out.bgp_peers.size(), 1u);
  EXPECT_EQ(out.bgp_peers[0].peer_asn, 65515u);
  EXPECT_EQ(out.bgp_peers[0].local_asn, 65010u);
  EXPECT_EQ(out.bgp_peers[0].peer_address.to_string(), "10.0.255.30");
  EXPECT_FALSE(out.bgp_peers[0].apipa);
  // Azure's fixed timers.
  EXPECT_EQ(out.bgp_peers[0].hold_time_seconds, 180);
  EXPECT_EQ(out.bgp_peers[0].keepalive_seconds, 60);
  doc["connections"][0]["azure"]["properties"]["gatewayCustomBgpIpAddresses"] = {
      {{"ipConfigurationId", "x"}, {"customBgpIpAddress", "169.254.21.1"}}};
  doc["connections"][0]["local"]["bgpPeeringAddress"] = "169.254.21.2";
  auto apipa = compile_json(doc);
  EXPECT_TRUE(apipa.bgp_peers[0].apipa);
  EXPECT_EQ(apipa.bgp_peers[0].peer_address.to_string(), "169.254.21.1");
  doc["connections"][0]["azure"]["properties"]["enableBgp"] = false;
  auto static_routes = compile_json(doc);
  EXPECT_TRUE(static_routes.bgp_peers.empty());
  ASSERT_EQ(static_routes.routes.size(), 1u);
  EXPECT_EQ(static_routes.routes[0].prefix.to_string(), "10.0.0.0/16");
  EXPECT_EQ(static_routes.routes[0].if_id, 1u);
}

TEST(Compiler, SecretsAreRedactedUnlessAsked) {
  auto out = compile_json(with_policy(testing::strong_policy()));
  ASSERT_EQ(out.secrets.size(), 1u);
  EXPECT_EQ(out.secrets[0].owners, (std::vector<std::string>{"172.16.0.1", "172.16.0.2"}));
  const auto redacted = render_swanctl_conf(out, SecretDisplay::redacted);
  EXPECT_EQ(redacted.find("ThisIsALongEnoughTestKey0123456789"), std::string::npos);
  EXPECT_NE(redacted.find("secret = <redacted>"), std::string::npos);
  const auto revealed = render_swanctl_conf(out, SecretDisplay::revealed);
  EXPECT_NE(revealed.find("secret = \"ThisIsALongEnoughTestKey0123456789\""), std::string::npos);
}

TEST(Compiler, SwanctlQuotingEscapesSpecialCharacters) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azure"]["properties"]["sharedKey"] = "Quote\"And\\Back#slash0123456789";
  auto out = compile_json(doc);
  const auto text = render_swanctl_conf(out, SecretDisplay::revealed);
  EXPECT_NE(text.find("secret = \"Quote\\\"And\\\\Back#slash0123456789\""), std::string::npos);
}

}  // namespace
}  // namespace ergw::policy
