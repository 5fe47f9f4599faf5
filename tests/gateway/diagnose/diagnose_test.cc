// The checks of `ergw diagnose` on evidence made by hand: each breakage of the
// troubleshooting path gives a failing finding that names the cause, with
// its evidence and a fix that says which field and which az command; a
// healthy tunnel gives none. And the parsers of iproute2's JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/diagnose/checks.h"

namespace ergw::diagnose {
namespace {

constexpr const char* kSecret = "NeverShowThisKey0123456789";

nlohmann::json healthy_status() {
  return nlohmann::json::parse(R"({
    "connections": [{
      "name": "hub", "remote": "172.16.0.2", "initiates": true, "state": "UP", "device": "ergwfp0",
      "ike": {"state": "ESTABLISHED", "remote": "172.16.0.2", "initiator": true, "encryption": "AES_GCM_16_256",
              "integrity": "", "prf": "PRF_HMAC_SHA2_384", "dh_group": "ECP_384"},
      "children": [{"local_ts": ["0.0.0.0/0"], "remote_ts": ["0.0.0.0/0"]}],
      "configured_children": [{"name": "hub", "coverage": "installed"}],
      "routes": [{"prefix": "10.0.2.0/24", "device": "ergwfp0", "installed": true, "carrying": true}],
      "failures": {}, "pfs": {"probe": "verified", "pfs_group": "ECP384", "verified_at": "2026-12-02T03:00:00Z"}
    }],
    "data_plane": {"kind": "fastpath", "tunnel_mtu": [{"device": "ergwfp0", "mtu": 1438, "connection": "hub",
                   "why": "AES_GCM_16_256 in UDP over IPv4, negotiated"}],
                   "mss_clamp": {"connections": [{"connection": "hub", "device": "ergwfp0", "mss": 1350,
                                                  "why": "tcpMss not set: Azure's 1350"}]}}
  })");
}

nlohmann::json config() {
  nlohmann::json c = nlohmann::json::parse(R"({"connections": [{"name": "hub",
    "azure": {"name": "onprem-er-vpn", "properties": {"dpdTimeoutSeconds": 45, "usePolicyBasedTrafficSelectors": false}},
    "local": {"prefixes": ["192.168.10.0/24"]}}]})");
  c["connections"][0]["azure"]["properties"]["sharedKey"] = kSecret;
  return c;
}

Evidence healthy() {
  Evidence e;
  e.status = healthy_status();
  e.config = config();
  auto& c = e.connections["hub"];
  UnderlayEvidence u;
  u.peer = "172.16.0.2";
  u.small_sent = 1;
  u.reachable = true;
  u.largest_answered = 1500;
  c.underlay = u;
  c.ike_ports = {{500, false, ""}, {4500, false, ""}};
  c.lookups = {{"10.0.2.1", "ergwfp0", "", "1000", ""}};
  e.kernel_routes = {{*IpPrefix::parse("10.0.2.0/24"), "ergwfp0", "", "main", "static"}};
  e.clock.read = true;
  e.clock.synchronised = true;
  return e;
}

const Finding& find(const std::vector<Finding>& findings, const std::string& check) {
  for (const auto& f : findings) {
    if (f.check == check) return f;
  }
  static Finding none{"(missing)", "", Outcome::skipped, "", ""};
  ADD_FAILURE() << "no finding " << check;
  return none;
}

std::string dump(const std::vector<Finding>& findings) { return to_json(findings).dump(2); }

void expect_no_secret(const std::vector<Finding>& findings) {
  EXPECT_EQ(dump(findings).find(kSecret), std::string::npos);
}

// A failing finding whose evidence and fix hold these words.
void expect_fail(const std::vector<Finding>& findings, const std::string& check, const std::string& evidence_part,
                 const std::string& fix_part) {
  const auto& f = find(findings, check);
  EXPECT_EQ(f.result, Outcome::fail) << dump(findings);
  EXPECT_NE(f.evidence.find(evidence_part), std::string::npos) << f.evidence;
  EXPECT_NE(f.fix.find(fix_part), std::string::npos) << f.fix;
  EXPECT_EQ(f.connection, "hub");
  expect_no_secret(findings);
}

void set_down(Evidence& e, const std::string& code, const std::string& reason) {
  auto& c = e.status["connections"][0];
  c["state"] = "DOWN";
  c.erase("ike");
  c.erase("children");
  c["configured_children"][0]["coverage"] = "missing";
  c["last_error"] = {{"code", code}, {"reason", reason}, {"at", "2026-12-02T03:00:00Z"}, {"observed", ""},
                     {"detail", "charon's line"}};
  c["pfs"] = {{"probe", "waiting"}, {"pfs_group", "ECP384"}};
}

TEST(DiagnoseChecks, AHealthyTunnelFailsNothing) {
  const auto findings = run_checks(healthy());
  for (const auto& f : findings) {
    EXPECT_TRUE(f.result == Outcome::ok || f.result == Outcome::skipped) << dump(findings);
  }
  EXPECT_EQ(find(findings, "unencrypted_path").result, Outcome::ok);
  EXPECT_EQ(find(findings, "mss_mtu").result, Outcome::ok);
  EXPECT_EQ(find(findings, "bgp_session").result, Outcome::skipped);  // no BGP
  EXPECT_EQ(find(findings, "clock").connection, "");
  expect_no_secret(findings);
}

TEST(DiagnoseChecks, UnreachableUnderlayNamesTheAddressAndThePrivatePeering) {
  auto e = healthy();
  set_down(e, "peer_unreachable", "peer unreachable");
  e.connections["hub"].underlay->reachable = false;
  e.connections["hub"].underlay->small_sent = 3;
  const auto findings = run_checks(e);
  expect_fail(findings, "underlay", "ping 172.16.0.2: 3 of 3 echoes unanswered", "AzurePrivatePeering");
  EXPECT_EQ(find(findings, "path_mtu").result, Outcome::skipped);
  expect_fail(findings, "ike_reachability", "peer unreachable", "the underlay first");
}

TEST(DiagnoseChecks, LowPathMtuSaysWhereItStopsAndWhetherIcmpCame) {
  auto e = healthy();
  auto& u = *e.connections["hub"].underlay;
  u.largest_answered = 1396;
  u.smallest_lost = 1404;
  const auto findings = run_checks(e);
  expect_fail(findings, "path_mtu", "pings of 1396 bytes reach 172.16.0.2, 1404 bytes and more do not",
              "1500");
  EXPECT_NE(find(findings, "path_mtu").evidence.find("black hole"), std::string::npos);
}

TEST(DiagnoseChecks, IkeRefusedOnPort500WhilePingAnswers) {
  auto e = healthy();
  set_down(e, "", "");
  e.status["connections"][0].erase("last_error");
  e.status["connections"][0]["state"] = "CONNECTING";
  e.connections["hub"].ike_ports[0].refused = true;
  const auto findings = run_checks(e);
  expect_fail(findings, "ike_reachability", "UDP 500: ICMP port unreachable", "UDP 500 and 4500");
  EXPECT_EQ(find(findings, "underlay").result, Outcome::ok);
}

TEST(DiagnoseChecks, WrongPskIsThePskCheck) {
  for (const char* code : {"psk_mismatch", "peer_refused_authentication"}) {
    auto e = healthy();
    set_down(e, code, "authentication failed");
    const auto findings = run_checks(e);
    expect_fail(findings, "psk", "authentication failed", "az network vpn-connection shared-key show");
    EXPECT_NE(find(findings, "psk").fix.find("azure.properties.sharedKey"), std::string::npos);
    EXPECT_EQ(find(findings, "ike_reachability").result, Outcome::ok) << "IKE was answered";
  }
}

TEST(DiagnoseChecks, ProposalMismatchNamesBothPolicies) {
  auto e = healthy();
  set_down(e, "no_acceptable_proposal", "no proposal chosen");
  const auto findings = run_checks(e);
  expect_fail(findings, "ike_proposal", "no proposal chosen", "az network vpn-connection ipsec-policy list");
  EXPECT_NE(find(findings, "ike_proposal").fix.find("azure.properties.ipsecPolicies"), std::string::npos);
  EXPECT_EQ(find(findings, "psk").result, Outcome::skipped);
}

TEST(DiagnoseChecks, APrefixPairWithoutChildSaIsTheTrafficSelectors) {
  auto e = healthy();
  auto& c = e.status["connections"][0];
  c["state"] = "PARTIAL";
  c["configured_children"].push_back({{"name", "hub-192_168_10_0/24-10_0_3_0/24"}, {"coverage", "missing"}});
  const auto findings = run_checks(e);
  expect_fail(findings, "traffic_selectors", "hub-192_168_10_0/24-10_0_3_0/24 (missing)",
              "usePolicyBasedTrafficSelectors");
  set_down(e, "traffic_selectors_unacceptable", "traffic selectors unacceptable");
  expect_fail(run_checks(e), "traffic_selectors", "traffic selectors unacceptable", "trafficSelectorPolicies");
}

TEST(DiagnoseChecks, PfsMismatchCarriesTheProbesFinding) {
  auto e = healthy();
  e.status["connections"][0]["pfs"] = {{"probe", "mismatch"},
                                       {"finding", "hub: PFS mismatch: ergw has PFS (pfsGroup PFS2048) ..."},
                                       {"detail", "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built"}};
  const auto findings = run_checks(e);
  expect_fail(findings, "pfs", "PFS mismatch: ergw has PFS", "--pfs-group");
}

TEST(DiagnoseChecks, ShortDpdTimeoutIsAWarning) {
  auto e = healthy();
  e.config["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 10;
  const auto findings = run_checks(e);
  const auto& f = find(findings, "dpd");
  EXPECT_EQ(f.result, Outcome::warning);
  EXPECT_NE(f.fix.find("dpdTimeoutSeconds=45"), std::string::npos) << f.fix;
}

TEST(DiagnoseChecks, BgpSessionNotEstablishedQuotesBirdAndTheAsns) {
  auto e = healthy();
  e.status["bgp"] = nlohmann::json::parse(R"({"sessions": [{"connection": "hub", "local": "192.168.255.1",
      "local_as": 65010, "neighbor": "10.0.255.30", "neighbor_as": 65515, "tunnel_up": true, "state": "Active",
      "last_error": "Received: Bad peer AS", "last_error_hint": "Azure's ASN is not 65515"}], "routes": []})");
  const auto findings = run_checks(e);
  expect_fail(findings, "bgp_session", "Bad peer AS", "azureGateway.bgpSettings.asn");
  EXPECT_NE(find(findings, "bgp_session").evidence.find("AS 65515"), std::string::npos);
  EXPECT_EQ(find(findings, "bgp_routes").result, Outcome::skipped);
}

TEST(DiagnoseChecks, AMoreSpecificRouteViaTheUnderlayIsUnencryptedTraffic) {
  auto e = healthy();
  e.kernel_routes.push_back({*IpPrefix::parse("10.0.2.128/25"), "wan0", "172.16.0.2", "main", "static"});
  e.connections["hub"].lookups.push_back({"10.0.2.129", "wan0", "172.16.0.2", "", ""});
  const auto findings = run_checks(e);
  expect_fail(findings, "unencrypted_path", "10.0.2.128/25 via 172.16.0.2 dev wan0", "ExpressRoute");
  // The address looked up is the first of the route inside Azure's prefix.
  const auto samples = sample_addresses(azure_prefixes(e.status, "hub"), e.kernel_routes, {"ergwfp0"});
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].to_string(), "10.0.2.1");
  EXPECT_EQ(samples[1].to_string(), "10.0.2.129");
}

TEST(DiagnoseChecks, LearnedPrefixesAndTheirDevicesCount) {
  auto e = healthy();
  e.status["bgp"] = {{"routes", {{{"prefix", "10.1.0.0/16"}, {"connection", "hub"}, {"device", "ergwfp0"}}}}};
  const auto prefixes = azure_prefixes(e.status, "hub");
  ASSERT_EQ(prefixes.size(), 2u);
  EXPECT_EQ(prefixes[1].to_string(), "10.1.0.0/16");
}

TEST(DiagnoseChecks, NoMssClampIsAWarningWithTheSetting) {
  auto e = healthy();
  e.status["data_plane"].erase("mss_clamp");
  const auto findings = run_checks(e);
  const auto& f = find(findings, "mss_mtu");
  EXPECT_EQ(f.result, Outcome::warning);
  EXPECT_NE(f.evidence.find("ergwfp0 MTU 1438"), std::string::npos) << f.evidence;
  EXPECT_NE(f.fix.find("tcpMss"), std::string::npos);
}

TEST(DiagnoseChecks, AnUnsynchronisedClockIsAWarningThatSaysWhatCannotBeMeasured) {
  auto e = healthy();
  e.clock.synchronised = false;
  const auto findings = run_checks(e);
  const auto& f = find(findings, "clock");
  EXPECT_EQ(f.result, Outcome::warning);
  EXPECT_NE(f.evidence.find("cannot be measured"), std::string::npos);
  EXPECT_NE(f.fix.find("timedatectl"), std::string::npos);
}

TEST(DiagnoseChecks, OneConnectionOnly) {
  auto e = healthy();
  auto other = e.status["connections"][0];
  other["name"] = "other";
  e.status["connections"].push_back(other);
  e.only = "other";
  for (const auto& f : run_checks(e)) EXPECT_TRUE(f.connection == "other" || f.connection.empty()) << f.connection;
}

TEST(KernelRoutes, IproutesJsonIsRead) {
  auto routes = parse_route_dump(R"([
    {"type":"unicast","dst":"default","gateway":"172.16.0.2","dev":"wan0","flags":[]},
    {"dst":"10.0.2.0/24","dev":"ergwfp0","scope":"link","flags":[]},
    {"dst":"10.0.0.0/16","dev":"ergwfp0","table":"1000","protocol":"bird","metric":32,"flags":[]},
    {"type":"local","dst":"172.16.0.1","dev":"wan0","table":"local","protocol":"kernel","flags":[]},
    {"type":"broadcast","dst":"172.16.0.3","dev":"wan0","table":"local","flags":[]},
    {"dst":"not a prefix"}, 7, {"dst": 12}])");
  ASSERT_TRUE(routes) << routes.error();
  ASSERT_EQ(routes.value().size(), 3u);
  EXPECT_EQ(routes.value()[0].describe(), "0.0.0.0/0 via 172.16.0.2 dev wan0 table main");
  EXPECT_EQ(routes.value()[2].describe(), "10.0.0.0/16 dev ergwfp0 table 1000 proto bird");
  EXPECT_FALSE(parse_route_dump("{}"));
  EXPECT_FALSE(parse_route_dump("[{"));
  auto got = parse_route_get(R"([{"dst":"10.0.2.1","dev":"ergwfp0","table":"1000","prefsrc":"192.168.10.1"}])");
  ASSERT_TRUE(got);
  EXPECT_EQ(got.value().describe(), "ip route get 10.0.2.1: dev ergwfp0 table 1000");
  EXPECT_FALSE(parse_route_get("[]"));
}

}  // namespace
}  // namespace ergw::diagnose
