// Reading Azure objects as Azure prints them: both JSON shapes, the
// --ipsec-policy spelling, read-only fields, and ergw's configuration file.
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/policy/connection_members.h"
#include "gateway/policy/connection_reader.h"
#include "gateway/policy/json_fields.h"
#include "policy_test_support.h"

namespace ergw::policy {
namespace {

using testing::has;
using testing::load;

std::string example(const std::string& name) { return std::string(ERGW_SOURCE_DIR) + "/examples/" + name; }

TEST(Reader, ArmAndAzShowShapesGiveTheSameConnection) {
  auto arm = testing::valid_config()["connections"][0]["azure"];
  arm["properties"]["ipsecPolicies"] = {testing::strong_policy()};
  nlohmann::json flat = arm["properties"];
  flat["name"] = arm["name"];
  Diagnostics d1, d2;
  auto a = read_azure_connection(arm, "azure", d1);
  auto b = read_azure_connection(flat, "azure", d2);
  EXPECT_FALSE(d1.has_errors()) << d1.format();
  EXPECT_FALSE(d2.has_errors()) << d2.format();
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.ipsec_policy, b.ipsec_policy);
  EXPECT_EQ(a.connection_mode, b.connection_mode);
  EXPECT_EQ(a.enable_bgp, b.enable_bgp);
  EXPECT_EQ(a.use_local_azure_ip_address, b.use_local_azure_ip_address);
  EXPECT_TRUE(a.shared_key == b.shared_key);
  // Paths name the field as the input spelled it.
  EXPECT_EQ(a.source_path, "azure.properties");
  EXPECT_EQ(b.source_path, "azure");
}

TEST(Reader, ShippedAzureExamplesReadInBothShapes) {
  for (const char* file : {"azure/connection-arm.json", "azure/connection-az-show.json"}) {
    Diagnostics d;
    auto config = read_configuration_file(example(file), d);
    ASSERT_TRUE(config) << file;
    EXPECT_FALSE(d.has_errors()) << file << "\n" << d.format();
    EXPECT_EQ(d.warning_count(), 0u) << "no unknown fields in what Azure prints\n" << d.format();
    ASSERT_EQ(config->connections.size(), 1u);
    EXPECT_TRUE(config->connections[0].bare_connection_object);
  }
}

// tcpMss: unset by default (ergwd's default clamp), 536..1460 or 0 (no clamp)
// taken, anything else refused naming the field and the range.
TEST(Reader, TcpMssIsTakenInRangeOrZeroAndRefusedOtherwise) {
  auto doc = testing::valid_config();
  auto loaded = load(doc);
  ASSERT_TRUE(loaded.config);
  EXPECT_FALSE(loaded.config->connections[0].tcp_mss.has_value());
  for (int mss : {0, 536, 1350, 1460}) {
    doc["connections"][0]["tcpMss"] = mss;
    loaded = load(doc);
    ASSERT_TRUE(loaded.config) << mss << testing::dump(loaded.diagnostics);
    EXPECT_EQ(loaded.config->connections[0].tcp_mss, std::optional<int>(mss));
  }
  for (int mss : {-1, 100, 535, 1461, 9000}) {
    doc["connections"][0]["tcpMss"] = mss;
    auto refused = load(doc);
    EXPECT_TRUE(has(refused.diagnostics, Severity::error, "connections[0].tcpMss", "allowed: 536..1460"))
        << mss << testing::dump(refused.diagnostics);
  }
}

// pfsProbe: on unless the appliance or the connection turns it off; the
// connection's setting wins; anything but true/false names the field.
TEST(Reader, PfsProbeIsOnByDefaultAndCanBeTurnedOffGloballyOrPerConnection) {
  auto doc = testing::valid_config();
  auto loaded = load(doc);
  ASSERT_TRUE(loaded.config);
  EXPECT_TRUE(loaded.config->pfs_probe);
  EXPECT_FALSE(loaded.config->connections[0].pfs_probe.has_value());

  doc["appliance"]["pfsProbe"] = false;
  doc["connections"][0]["pfsProbe"] = true;
  loaded = load(doc);
  ASSERT_TRUE(loaded.config) << testing::dump(loaded.diagnostics);
  EXPECT_FALSE(loaded.config->pfs_probe);
  EXPECT_EQ(loaded.config->connections[0].pfs_probe, std::optional<bool>(true));

  for (const auto& [where, value] : {std::pair{"appliance", nlohmann::json("off")},
                                     std::pair{"connection", nlohmann::json(1)}}) {
    auto bad = testing::valid_config();
    if (std::string(where) == "appliance") {
      bad["appliance"]["pfsProbe"] = value;
    } else {
      bad["connections"][0]["pfsProbe"] = value;
    }
    auto refused = load(bad);
    const std::string path = std::string(where) == "appliance" ? "appliance.pfsProbe" : "connections[0].pfsProbe";
    EXPECT_TRUE(has(refused.diagnostics, Severity::error, path, "must be true or false"))
        << testing::dump(refused.diagnostics);
  }
}

TEST(Reader, ReadOnlyFieldsAreIgnoredAndUnknownOnesWarned) {
  auto doc = testing::valid_config();
  auto& props = doc["connections"][0]["azure"]["properties"];
  props["provisioningState"] = "Succeeded";
  props["ingressBytesTransferred"] = 42;
  props["etag"] = "W/\"x\"";
  props["ipsecPolicy"] = nlohmann::json::array();  // a typo of ipsecPolicies
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "properties.ipsecPolicy", "unknown field"));
  EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "provisioningState"));
  EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "ingressBytesTransferred"));
}

TEST(Reader, PowerShellPascalCaseNamesAreAccepted) {
  nlohmann::json policy = {{"SaLifeTimeSeconds", 3600},   {"SaDataSizeKilobytes", 102400000},
                           {"IpsecEncryption", "AES256"}, {"IpsecIntegrity", "SHA256"},
                           {"IkeEncryption", "AES256"},   {"IkeIntegrity", "SHA384"},
                           {"DhGroup", "ECP384"},         {"PfsGroup", "ECP384"}};
  Diagnostics d;
  auto p = read_ipsec_policy(policy, "p", d);
  ASSERT_TRUE(p) << d.format();
  EXPECT_EQ(p->sa_lifetime_seconds, 3600);
  EXPECT_EQ(p->dh_group, DhGroup::ECP384);
}

TEST(Reader, IpsecPolicyKeyValueSpelling) {
  Diagnostics d;
  auto p = read_ipsec_policy_args(
      "ikeEncryption=GCMAES256 ikeIntegrity=SHA384 dhGroup=ECP384 ipsecEncryption=GCMAES256 "
      "ipsecIntegrity=GCMAES256 pfsGroup=ECP384 saLifeTimeSeconds=27000 saDataSizeKilobytes=102400000",
      "ipsecPolicy", d);
  ASSERT_TRUE(p) << d.format();
  EXPECT_EQ(p->ike_encryption, IkeEncryption::GCMAES256);
  EXPECT_EQ(p->sa_data_size_kilobytes, 102400000);
}

TEST(Reader, IpsecPolicyAzFlagSpelling) {
  Diagnostics d;
  // As `az network vpn-connection ipsec-policy add` takes it, and comma-separated key=value.
  auto p = read_ipsec_policy_args(
      "--dh-group DHGroup14 --ike-encryption AES256 --ike-integrity SHA384 --ipsec-encryption AES256 "
      "--ipsec-integrity SHA256 --pfs-group PFS2048 --sa-lifetime 27000 --sa-max-size 102400000",
      "ipsecPolicy", d);
  ASSERT_TRUE(p) << d.format();
  EXPECT_EQ(p->dh_group, DhGroup::DHGroup14);
  EXPECT_EQ(p->pfs_group, PfsGroup::PFS2048);
  auto q = read_ipsec_policy_args(
      "dh-group=ECP256,ike-encryption=AES128,ike-integrity=SHA256,ipsec-encryption=GCMAES128,"
      "ipsec-integrity=GCMAES128,pfs-group=None,sa-lifetime=3600,sa-max-size=1024",
      "ipsecPolicy", d);
  ASSERT_TRUE(q) << d.format();
  EXPECT_EQ(q->ipsec_encryption, IpsecEncryption::GCMAES128);
  EXPECT_EQ(q->sa_lifetime_seconds, 3600);
}

TEST(Reader, IpsecPolicyArgsReportEveryMissingAndBadField) {
  Diagnostics d;
  auto p = read_ipsec_policy_args("dh-group=DHGroup99 sa-lifetime=abc", "ipsecPolicy", d);
  // A policy was given, with nothing valid in it: it is kept (incomplete).
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->complete());
  EXPECT_FALSE(p->dh_group);
  EXPECT_TRUE(has(d, Severity::error, "dhGroup", "\"DHGroup99\" is not a valid value; allowed: None, DHGroup1"));
  EXPECT_TRUE(has(d, Severity::error, "saLifeTimeSeconds", "must be an integer"));
  for (const char* missing : {"saDataSizeKilobytes", "ipsecEncryption", "ipsecIntegrity", "ikeEncryption",
                              "ikeIntegrity", "pfsGroup"}) {
    EXPECT_TRUE(has(d, Severity::error, missing, "missing")) << missing;
  }
  Diagnostics e;
  EXPECT_FALSE(read_ipsec_policy_args("dh-group", "ipsecPolicy", e));
  EXPECT_TRUE(has(e, Severity::error, "ipsecPolicy", "expected key=value"));
}

TEST(Reader, PolicyGivenTwiceMustAgree) {
  auto doc = testing::valid_config();
  doc["connections"][0]["azure"]["properties"]["ipsecPolicies"] = {testing::strong_policy()};
  doc["connections"][0]["ipsecPolicy"] =
      "--dh-group ECP384 --ike-encryption AES256 --ike-integrity SHA256 --ipsec-encryption GCMAES256 "
      "--ipsec-integrity GCMAES256 --pfs-group PFS2048 --sa-lifetime 27000 --sa-max-size 102400000";
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ipsecPolicy", "differs from the policy"));
}

TEST(Reader, TypeErrorsNameTheFieldAndTheType) {
  auto doc = testing::valid_config();
  auto& props = doc["connections"][0]["azure"]["properties"];
  props["enableBgp"] = "yes";
  props["dpdTimeoutSeconds"] = "45";
  props["ipsecPolicies"] = {testing::strong_policy()};
  props["ipsecPolicies"][0]["saLifeTimeSeconds"] = 27000.5;
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "properties.enableBgp", "must be true or false, not a string"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "properties.dpdTimeoutSeconds", "must be an integer"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ipsecPolicies[0].saLifeTimeSeconds",
                  "must be an integer, not a fractional number"));
}

TEST(Reader, BadPrefixesAreExplained) {
  auto doc = testing::valid_config();
  doc["connections"][0]["local"]["prefixes"] = {"192.168.10.1/24", "10.1", 7};
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.prefixes[0]", "did you mean \"192.168.10.0/24\""));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.prefixes[1]", "is not a CIDR prefix"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.prefixes[2]", "not an integer"));
}

TEST(Reader, AzureGatewayAsAzurePrintsIt) {
  // `az network vnet-gateway show`, active-active, with public and private
  // tunnel addresses; useLocalAzureIpAddress picks the private ones.
  auto gateway = nlohmann::json::parse(R"({
    "activeActive": true, "enablePrivateIpAddress": true, "gatewayType": "Vpn", "sku": {"name": "VpnGw2AZ"},
    "bgpSettings": {
      "asn": 65515, "bgpPeeringAddress": "10.12.255.4,10.12.255.5", "peerWeight": 0,
      "bgpPeeringAddresses": [
        {"ipconfigurationId": "a", "defaultBgpIpAddresses": ["10.12.255.4"], "customBgpIpAddresses": [],
         "tunnelIpAddresses": ["20.1.2.3", "10.12.255.4"]},
        {"ipconfigurationId": "b", "defaultBgpIpAddresses": ["10.12.255.5"], "customBgpIpAddresses": [],
         "tunnelIpAddresses": ["20.1.2.4", "10.12.255.5"]}]}
  })");
  for (bool private_ip : {true, false}) {
    auto doc = testing::valid_config();
    doc["connections"][0]["azureGateway"] = gateway;
    doc["connections"][0]["azure"]["properties"]["useLocalAzureIpAddress"] = private_ip;
    auto loaded = load(doc);
    ASSERT_TRUE(loaded.config);
    const auto& g = loaded.config->connections[0].gateway;
    ASSERT_EQ(g.tunnel_ip_addresses.size(), 2u) << testing::dump(loaded.diagnostics);
    EXPECT_EQ(g.tunnel_ip_addresses[0].to_string(), private_ip ? "10.12.255.4" : "20.1.2.3");
    EXPECT_EQ(g.tunnel_ip_addresses[1].to_string(), private_ip ? "10.12.255.5" : "20.1.2.4");
    ASSERT_EQ(g.bgp_peering_addresses.size(), 2u);
    EXPECT_TRUE(g.active_active);
    EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "", "unknown field")) << testing::dump(loaded.diagnostics);
  }
}

TEST(Reader, LocalNetworkGatewayAsAzurePrintsIt) {
  auto doc = testing::valid_config();
  doc["connections"][0].erase("local");
  doc["connections"][0]["localNetworkGateway"] = nlohmann::json::parse(R"({
    "name": "lng-onprem", "properties": {
      "gatewayIpAddress": "172.16.0.1",
      "localNetworkAddressSpace": {"addressPrefixes": ["192.168.10.0/24", "192.168.20.0/24"]},
      "bgpSettings": {"asn": 65010, "bgpPeeringAddress": "169.254.21.2", "peerWeight": 0},
      "provisioningState": "Succeeded"}})");
  auto loaded = load(doc);
  ASSERT_TRUE(loaded.config);
  const auto& local = loaded.config->connections[0].local;
  ASSERT_TRUE(local.address);
  EXPECT_EQ(local.address->to_string(), "172.16.0.1");
  EXPECT_EQ(local.prefixes.size(), 2u);
  EXPECT_EQ(local.asn.value_or(0), 65010u);
  EXPECT_FALSE(loaded.diagnostics.has_errors()) << testing::dump(loaded.diagnostics);
}

TEST(Reader, SharedKeyFromFileNeverPrinted) {
  const std::string dir = ::testing::TempDir();
  const std::string file = dir + "/psk-test.key";
  {
    std::ofstream out(file);
    out << "FileKeyValue0123456789abcdefXYZ\n";
  }
  auto doc = testing::valid_config();
  doc["connections"][0]["azure"]["properties"].erase("sharedKey");
  doc["connections"][0]["sharedKeyFile"] = file;
  Diagnostics d;
  auto config = read_configuration(doc, dir, d);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->connections[0].azure.shared_key.reveal(), "FileKeyValue0123456789abcdefXYZ");
  EXPECT_EQ(d.format().find("FileKeyValue"), std::string::npos);
  // Readable by others: warned, with the fix.
  EXPECT_TRUE(has(d, Severity::warning, "sharedKeyFile", "can be read by other users"));

  doc["connections"][0]["sharedKeyFile"] = dir + "/does-not-exist.key";
  Diagnostics e;
  (void)read_configuration(doc, dir, e);
  EXPECT_TRUE(has(e, Severity::error, "sharedKeyFile", "cannot read the key file"));
}

TEST(Reader, JsonSyntaxErrorNamesTheLineNotTheContent) {
  const std::string file = ::testing::TempDir() + "/broken.json";
  {
    std::ofstream out(file);
    out << "{\n  \"connections\": [\n    {\"azure\": {\"sharedKey\": \"SecretValue123\" \n  ]\n}\n";
  }
  Diagnostics d;
  EXPECT_FALSE(read_configuration_file(file, d));
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_NE(d.all()[0].path.find("broken.json:"), std::string::npos);
  EXPECT_EQ(d.format().find("SecretValue123"), std::string::npos);
}

TEST(Reader, HugeNumberIsAnErrorNotACrash) {
  // nlohmann's non-throwing parse still throws for this (found by fuzzing).
  const std::string file = ::testing::TempDir() + "/huge.json";
  std::ofstream(file) << "{\"connections\": [{\"interfaceId\": 7777777777E7777777777777777777}]}";
  Diagnostics d;
  EXPECT_FALSE(read_configuration_file(file, d));
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_NE(d.all()[0].message.find("number out of range"), std::string::npos) << d.format();
}

TEST(Reader, BareObjectDetection) {
  EXPECT_TRUE(is_bare_connection_object(nlohmann::json::parse(R"({"properties": {}})")));
  EXPECT_TRUE(is_bare_connection_object(nlohmann::json::parse(R"({"connectionType": "IPsec"})")));
  EXPECT_FALSE(is_bare_connection_object(testing::valid_config()));
  EXPECT_FALSE(is_bare_connection_object(nlohmann::json::array()));
}

// kConnectionMembers is the list the API shows and takes; the reader is held
// to it (JsonFields::limit_to, so it reads nothing the list lacks, or every
// test that reads a configuration throws), and here it is checked the other
// way: the reader reads every member the list names.
TEST(Reader, ReadsEveryMemberOfTheSharedList) {
  auto doc = testing::valid_config();
  auto& entry = doc["connections"][0];
  for (const auto& m : kConnectionMembers) {
    // The values need not be valid: an unread member is what is looked for.
    if (!entry.contains(m.key)) entry[std::string(m.key)] = "x";
  }
  Diagnostics d;
  read_configuration(doc, "/nonexistent", d);
  for (const auto& m : kConnectionMembers) {
    EXPECT_FALSE(has(d, Severity::warning, "connections[0]." + std::string(m.key), "unknown field"))
        << m.key << " is in kConnectionMembers but the reader ignores it\n" << d.format();
  }
  // And a member outside the list is still a warning (a typo), not taken.
  entry["pfsProbee"] = false;
  Diagnostics typo;
  read_configuration(doc, "/nonexistent", typo);
  EXPECT_TRUE(has(typo, Severity::warning, "connections[0].pfsProbee", "unknown field")) << typo.format();
}

TEST(Reader, AReaderHeldToAVocabularyCannotAskBeyondIt) {
  const auto object = nlohmann::json::parse(R"({"known": 1, "other": 2})");
  constexpr std::string_view kVocabulary[] = {"known"};
  Diagnostics d;
  JsonFields f(object, "x", d);
  f.limit_to(kVocabulary);
  EXPECT_EQ(f.integer("KNOWN"), 1);  // names compare without case, as everywhere in JsonFields
  EXPECT_THROW(f.integer("other"), std::logic_error);
  EXPECT_THROW((void)f.has("other"), std::logic_error);
  f.warn_unknown();  // the input's members are not limited: "other" is reported, as any unknown one
  EXPECT_TRUE(has(d, Severity::warning, "x.other", "unknown field")) << d.format();
}

}  // namespace
}  // namespace ergw::policy
