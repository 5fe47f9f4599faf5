// Every validation rule, accepted and refused, with the field path, the bad
// value and the allowed values in the message.
#include <gtest/gtest.h>

#include "gateway/policy/connection_reader.h"
#include "gateway/policy/validator.h"
#include "policy_test_support.h"

namespace ergw::policy {
namespace {

using testing::has;
using testing::load;
using testing::with_policy;

nlohmann::json& props(nlohmann::json& doc) { return doc["connections"][0]["azure"]["properties"]; }

TEST(Validator, TheValidConfigurationIsValid) {
  auto loaded = load(with_policy(testing::strong_policy()));
  EXPECT_FALSE(loaded.diagnostics.has_errors()) << testing::dump(loaded.diagnostics);
  EXPECT_EQ(loaded.diagnostics.warning_count(), 0u) << testing::dump(loaded.diagnostics);
}

TEST(Validator, SaLifetimeRange) {
  for (auto [value, ok] : {std::pair{299, false}, {300, true}, {27000, true}, {172799, true}}) {
    auto policy = testing::strong_policy();
    policy["saLifeTimeSeconds"] = value;
    auto loaded = load(with_policy(policy));
    EXPECT_EQ(loaded.diagnostics.has_errors(), !ok) << value << testing::dump(loaded.diagnostics);
    if (!ok) {
      EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "saLifeTimeSeconds", "allowed: 300..2147483647"));
    }
  }
  auto policy = testing::strong_policy();
  policy["saLifeTimeSeconds"] = 200000;
  EXPECT_TRUE(has(load(with_policy(policy)).diagnostics, Severity::warning, "saLifeTimeSeconds", "over the 172799 s"));
  policy["saLifeTimeSeconds"] = 3000000000LL;
  EXPECT_TRUE(has(load(with_policy(policy)).diagnostics, Severity::error, "saLifeTimeSeconds", "out of range"));
}

TEST(Validator, SaDataSizeRange) {
  for (auto [value, ok] : {std::pair{0, false}, {1023, false}, {1024, true}, {102400000, true}}) {
    auto policy = testing::strong_policy();
    policy["saDataSizeKilobytes"] = value;
    auto loaded = load(with_policy(policy));
    EXPECT_EQ(loaded.diagnostics.has_errors(), !ok) << value;
    if (!ok) {
      EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "saDataSizeKilobytes", "allowed: 1024.."));
    }
  }
}

TEST(Validator, DpdTimeoutRange) {
  for (auto [value, ok] : {std::pair{8, false}, {9, true}, {45, true}, {3600, true}, {3601, false}, {0, true}}) {
    auto doc = with_policy(testing::strong_policy());
    props(doc)["dpdTimeoutSeconds"] = value;
    auto loaded = load(doc);
    EXPECT_EQ(loaded.diagnostics.has_errors(), !ok) << value;
    if (!ok) {
      EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "dpdTimeoutSeconds", "allowed: 9..3600"));
    }
    if (value == 0) {
      EXPECT_EQ(loaded.config->connections[0].azure.dpd_timeout_seconds, 45);
      EXPECT_TRUE(has(loaded.diagnostics, Severity::note, "dpdTimeoutSeconds", "default of 45"));
    }
    if (value == 9) {
      EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "dpdTimeoutSeconds", "30-45"));
    }
  }
}

// Azure's GCM rule: with GCM, ipsecEncryption and ipsecIntegrity must be the same GCMAES value.
TEST(Validator, GcmPairingRuleOverEveryCombination) {
  for (const auto& enc : EnumTraits<IpsecEncryption>::names) {
    for (const auto& integ : EnumTraits<IpsecIntegrity>::names) {
      auto policy = testing::strong_policy();
      policy["ipsecEncryption"] = enc.name;
      policy["ipsecIntegrity"] = integ.name;
      auto loaded = load(with_policy(policy));
      const bool any_gcm = is_gcm(enc.value) || is_gcm(integ.value);
      const bool ok = !any_gcm || enc.name == integ.name;
      EXPECT_EQ(has(loaded.diagnostics, Severity::error, "ipsecIntegrity", "same GCMAES"), !ok)
          << enc.name << "/" << integ.name;
      EXPECT_EQ(loaded.diagnostics.has_errors(), !ok) << enc.name << "/" << integ.name
                                                      << testing::dump(loaded.diagnostics);
    }
  }
}

TEST(Validator, IkeGcmIntegrityLeavesNoPrf) {
  for (auto [enc, integ] : {std::pair{"AES256", "GCMAES256"}, {"GCMAES256", "GCMAES256"}, {"GCMAES128", "GCMAES256"}}) {
    auto policy = testing::strong_policy();
    policy["ikeEncryption"] = enc;
    policy["ikeIntegrity"] = integ;
    auto loaded = load(with_policy(policy));
    EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ikeIntegrity", "allowed")) << enc << "/" << integ;
  }
  auto policy = testing::strong_policy();
  policy["ikeEncryption"] = "GCMAES256";
  policy["ikeIntegrity"] = "SHA384";
  EXPECT_FALSE(load(with_policy(policy)).diagnostics.has_errors());
}

TEST(Validator, DhGroupNoneRefusedForIkev2) {
  auto policy = testing::strong_policy();
  policy["dhGroup"] = "None";
  EXPECT_TRUE(has(load(with_policy(policy)).diagnostics, Severity::error, "dhGroup", "IKE_SA_INIT"));
}

TEST(Validator, EveryMissingPolicyFieldIsReportedAtOnce) {
  auto loaded = load(with_policy(nlohmann::json{{"dhGroup", "ECP384"}}));
  for (const char* field : {"saLifeTimeSeconds", "saDataSizeKilobytes", "ipsecEncryption", "ipsecIntegrity",
                            "ikeEncryption", "ikeIntegrity", "pfsGroup"}) {
    EXPECT_TRUE(has(loaded.diagnostics, Severity::error, field, "partial policy")) << field;
  }
  EXPECT_EQ(loaded.diagnostics.error_count(), 7u) << testing::dump(loaded.diagnostics);
}

TEST(Validator, OnlyOnePolicyPerConnection) {
  auto doc = testing::valid_config();
  props(doc)["ipsecPolicies"] = {testing::strong_policy(), testing::strong_policy()};
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "ipsecPolicies", "exactly one policy"));
}

TEST(Validator, BadEnumNamesTheAllowedValues) {
  auto policy = testing::strong_policy();
  policy["pfsGroup"] = "PFS5";
  policy["ikeEncryption"] = "AES512";
  auto loaded = load(with_policy(policy));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ipsecPolicies[0].pfsGroup",
                  "\"PFS5\" is not a valid value; allowed: None, PFS1, PFS2, PFS2048, ECP256, ECP384, PFS24, PFS14, "
                  "PFSMM"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ikeEncryption",
                  "allowed: DES, DES3, AES128, AES192, AES256, GCMAES256, GCMAES128"));
}

TEST(Validator, WeakAlgorithmsWarnWithAFix) {
  struct Case {
    const char* field;
    const char* value;
  };
  for (auto c : {Case{"ikeEncryption", "DES"}, Case{"ikeEncryption", "DES3"}, Case{"ikeIntegrity", "MD5"},
                 Case{"ikeIntegrity", "SHA1"}, Case{"dhGroup", "DHGroup1"}, Case{"dhGroup", "DHGroup2"},
                 Case{"pfsGroup", "PFS1"}, Case{"pfsGroup", "PFS2"}, Case{"pfsGroup", "PFS14"},
                 Case{"pfsGroup", "PFSMM"}}) {
    auto policy = testing::strong_policy();
    policy[c.field] = c.value;
    auto loaded = load(with_policy(policy));
    EXPECT_FALSE(loaded.diagnostics.has_errors()) << c.value;
    bool warned = false;
    for (const auto& d : loaded.diagnostics.all()) {
      if (d.severity == Severity::warning && d.path.ends_with(c.field) && !d.fix.empty()) warned = true;
    }
    EXPECT_TRUE(warned) << c.field << "=" << c.value << testing::dump(loaded.diagnostics);
  }
  for (auto [enc, integ] : {std::pair{"DES", "SHA256"}, {"DES3", "SHA256"}, {"None", "SHA256"}, {"AES256", "MD5"},
                            {"AES256", "SHA1"}}) {
    auto policy = testing::strong_policy();
    policy["ipsecEncryption"] = enc;
    policy["ipsecIntegrity"] = integ;
    auto loaded = load(with_policy(policy));
    EXPECT_FALSE(loaded.diagnostics.has_errors());
    EXPECT_GE(loaded.diagnostics.warning_count(), 1u) << enc << "/" << integ;
  }
}

TEST(Validator, NoPolicyWarnsAboutAzureDefaults) {
  auto loaded = load(testing::valid_config());
  EXPECT_FALSE(loaded.diagnostics.has_errors());
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "ipsecPolicies", "MODP-1024"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "ipsecPolicies", "no PFS"));
}

TEST(Validator, SharedKeyCharacterRules) {
  for (auto [key, ok] : {std::pair{"Valid!Key#With$Symbols0123456", true}, {"has space in it 0123456789", false},
                         {"has-hyphen-0123456789abcdef", false}, {"has~tilde0123456789abcdef", false},
                         {"non-ascii-\xc3\xa9", false}, {"tab\there0123456789abcdefgh", false}}) {
    auto doc = with_policy(testing::strong_policy());
    props(doc)["sharedKey"] = key;
    auto loaded = load(doc);
    EXPECT_EQ(has(loaded.diagnostics, Severity::error, "sharedKey", "printable ASCII except space, '-' and '~'"), !ok)
        << key;
    // The key itself never appears in any diagnostic.
    EXPECT_EQ(testing::dump(loaded.diagnostics).find(key), std::string::npos);
  }
  auto doc = with_policy(testing::strong_policy());
  props(doc)["sharedKey"] = "short";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "sharedKey", "5 characters"));
  props(doc).erase("sharedKey");
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "sharedKey", "missing"));
}

TEST(Validator, Ikev1AndOtherConnectionTypesRefused) {
  auto doc = with_policy(testing::strong_policy());
  props(doc)["connectionProtocol"] = "ikev1";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "connectionProtocol", "allowed: IKEv2"));
  for (const char* type : {"Vnet2Vnet", "ExpressRoute", "VPNClient"}) {
    auto d2 = with_policy(testing::strong_policy());
    props(d2)["connectionType"] = type;
    EXPECT_TRUE(has(load(d2).diagnostics, Severity::error, "connectionType", "allowed: IPsec")) << type;
  }
}

TEST(Validator, ReservedLocalAsnsRefused) {
  for (uint32_t asn : {8074u, 8075u, 12076u, 65515u, 65517u, 65518u, 65519u, 65520u, 23456u, 64496u, 64511u,
                       65535u, 65551u, 4294967295u, 0u}) {
    EXPECT_FALSE(reserved_asn_reason(asn).empty()) << asn;
    auto doc = with_policy(testing::strong_policy());
    doc["connections"][0]["local"]["asn"] = asn;
    EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.asn", "reserved")) << asn;
  }
  for (uint32_t asn : {64512u, 65514u, 65521u, 65534u, 65516u, 3356u, 4200000000u}) {
    EXPECT_TRUE(reserved_asn_reason(asn).empty()) << asn;
    auto doc = with_policy(testing::strong_policy());
    doc["connections"][0]["local"]["asn"] = asn;
    EXPECT_FALSE(load(doc).diagnostics.has_errors()) << asn;
  }
}

TEST(Validator, EqualAsnsRefused) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["bgpSettings"]["asn"] = 65010;
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.asn", "equals the Azure gateway's ASN"));
}

TEST(Validator, ApipaRangeForCustomBgpAddresses) {
  for (auto [address, ok] : {std::pair{"169.254.20.255", false}, {"169.254.21.0", true}, {"169.254.21.1", true},
                             {"169.254.22.255", true}, {"169.254.23.0", false}, {"10.0.255.30", false}}) {
    auto doc = with_policy(testing::strong_policy());
    props(doc)["gatewayCustomBgpIpAddresses"] = {{{"ipConfigurationId", "x"}, {"customBgpIpAddress", address}}};
    doc["connections"][0]["local"]["bgpPeeringAddress"] = "169.254.21.2";
    auto loaded = load(doc);
    EXPECT_EQ(has(loaded.diagnostics, Severity::error, "customBgpIpAddress", "169.254.21.0 - 169.254.22.255"), !ok)
        << address;
  }
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["local"]["bgpPeeringAddress"] = "169.254.1.1";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.bgpPeeringAddress", "outside Azure's range"));
}

TEST(Validator, BgpNeedsItsAddresses) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["local"].erase("asn");
  doc["connections"][0]["local"].erase("bgpPeeringAddress");
  doc["connections"][0]["azureGateway"].erase("bgpSettings");
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.asn", "missing"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.bgpPeeringAddress", "missing"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "bgpPeeringAddress", "Azure's BGP address"));
  // With BGP off, none of it is needed.
  props(doc)["enableBgp"] = false;
  EXPECT_FALSE(load(doc).diagnostics.has_errors()) << testing::dump(load(doc).diagnostics);
}

TEST(Validator, PolicyBasedSelectors) {
  auto doc = with_policy(testing::strong_policy());
  props(doc)["usePolicyBasedTrafficSelectors"] = true;
  props(doc)["trafficSelectorPolicies"] = {
      {{"localAddressRanges", {"10.0.0.0/16"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}}};
  auto loaded = load(doc);
  EXPECT_FALSE(loaded.diagnostics.has_errors()) << testing::dump(loaded.diagnostics);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "usePolicyBasedTrafficSelectors", "policy-based"));

  props(doc)["trafficSelectorPolicies"] = {{{"localAddressRanges", {"10.0.0.0/16"}}}};
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "remoteAddressRanges", "missing"));

  props(doc)["usePolicyBasedTrafficSelectors"] = false;
  props(doc)["trafficSelectorPolicies"] = {
      {{"localAddressRanges", {"10.0.0.0/16"}}, {"remoteAddressRanges", {"192.168.10.0/24"}}}};
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "trafficSelectorPolicies", "ignored"));
}

TEST(Validator, NatRulesExplainedAndRefusedWithPolicyBasedSelectors) {
  auto doc = with_policy(testing::strong_policy());
  props(doc)["egressNatRules"] = {{{"id", "/subscriptions/x/natRules/r1"}}};
  auto loaded = load(doc);
  EXPECT_FALSE(loaded.diagnostics.has_errors());
  // The warning names the field that is set, and only that one.
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "properties.egressNatRules", "ergw does no NAT"));
  EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "ingressNatRules"));
  props(doc)["IngressNatRules"] = {{{"id", "/subscriptions/x/natRules/r2"}}};
  loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "properties.IngressNatRules", "ergw does no NAT"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "properties.egressNatRules", "ergw does no NAT"));
  props(doc)["usePolicyBasedTrafficSelectors"] = true;
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "usePolicyBasedTrafficSelectors", "NAT rules"));
}

TEST(Validator, AddressesAndActiveActive) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"2001:db8::1"};
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "tunnelIpAddresses", "different IP families"));
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = nlohmann::json::array();
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "tunnelIpAddresses", "private tunnel IP"));
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2"};
  doc["connections"][0]["azureGateway"]["activeActive"] = true;
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "activeActive", "only one tunnel address"));
}

TEST(Validator, PreferredInstanceNamesAnInstanceOfAnActiveActiveGateway) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  doc["connections"][0]["preferredInstance"] = 1;
  EXPECT_FALSE(has(load(doc).diagnostics, Severity::error, "preferredInstance", ""));
  doc["connections"][0]["preferredInstance"] = "none";
  EXPECT_FALSE(has(load(doc).diagnostics, Severity::error, "preferredInstance", ""));
  for (const nlohmann::json& bad : {nlohmann::json(2), nlohmann::json("first"), nlohmann::json(true)}) {
    doc["connections"][0]["preferredInstance"] = bad;
    EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "connections[0].preferredInstance",
                    "allowed: \"none\" (ECMP over both instances' tunnels, the default), 0 or 1"))
        << bad.dump();
  }
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2"};
  doc["connections"][0]["preferredInstance"] = 1;
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "connections[0].preferredInstance",
                  "1 names no instance: the gateway has 1 tunnel address(es)"));
}

TEST(Validator, ActiveActiveBgpWantsABgpAddressPerInstance) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["azureGateway"]["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  doc["connections"][0]["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.0.255.4";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "bgpSettings.bgpPeeringAddress",
                  "only the first 1 instance(s) get a BGP session"));
  doc["connections"][0]["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.0.255.4,10.0.255.4";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "bgpSettings.bgpPeeringAddress", "given for two instances"));
  doc["connections"][0]["azureGateway"]["bgpSettings"]["bgpPeeringAddress"] = "10.0.255.4,10.0.255.5";
  EXPECT_FALSE(has(load(doc).diagnostics, Severity::warning, "bgpSettings.bgpPeeringAddress", "instance"));
  EXPECT_FALSE(load(doc).diagnostics.has_errors());
}

TEST(Validator, ConfigurationLevelRules) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"].push_back(doc["connections"][0]);
  doc["connections"][0]["interfaceId"] = 7;
  doc["connections"][1]["interfaceId"] = 7;
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "connections[1].name", "names must be unique"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "connections[1].interfaceId", "also used"));
  auto bad_name = with_policy(testing::strong_policy());
  bad_name["connections"][0]["name"] = "has space";
  EXPECT_TRUE(has(load(bad_name).diagnostics, Severity::error, "connections[0].name", "cannot name a connection"));
}

TEST(Validator, AllErrorsAreReportedAtOnce) {
  auto policy = testing::strong_policy();
  policy["saLifeTimeSeconds"] = 10;
  policy["dhGroup"] = "DHGroup3";
  policy["ipsecIntegrity"] = "SHA256";
  auto doc = with_policy(policy);
  props(doc)["dpdTimeoutSeconds"] = 1;
  props(doc)["connectionProtocol"] = "IKEv1";
  doc["connections"][0]["local"]["asn"] = 65515;
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "saLifeTimeSeconds"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "dhGroup"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "dpdTimeoutSeconds"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "connectionProtocol"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.asn"));
}

// An invalid enum value is one error among the others: the rest of the same
// policy is still checked, and the policy still counts as set.
TEST(Validator, AnInvalidEnumHidesNoOtherErrorAndNoPolicyWarningIsWrong) {
  auto policy = testing::strong_policy();
  policy["dhGroup"] = "DHGroup99";
  policy["ipsecEncryption"] = "GCMAES256";
  policy["ipsecIntegrity"] = "SHA256";  // breaks the GCM rule
  policy["pfsGroup"] = "PFS1";          // a weak group: a warning
  auto loaded = load(with_policy(policy));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ipsecPolicies[0].dhGroup", "DHGroup99"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ipsecPolicies[0].ipsecIntegrity", "same GCMAES"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "ipsecPolicies[0].pfsGroup", "breakable"));
  EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "ipsecPolicies", "no custom policy"))
      << testing::dump(loaded.diagnostics);
  EXPECT_EQ(loaded.diagnostics.error_count(), 2u) << testing::dump(loaded.diagnostics);
  // An out-of-range number the same way.
  policy = testing::strong_policy();
  policy["saLifeTimeSeconds"] = 10;
  policy["ikeIntegrity"] = "GCMAES256";
  loaded = load(with_policy(policy));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "saLifeTimeSeconds", "out of range"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ikeIntegrity", "allowed"));
  EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "ipsecPolicies", "no custom policy"));
}

// --- BGP: the rules ergwd used to check only when it built its BIRD peers ---

nlohmann::json& local(nlohmann::json& doc) { return doc["connections"][0]["local"]; }
nlohmann::json& gateway(nlohmann::json& doc) { return doc["connections"][0]["azureGateway"]; }

TEST(ValidatorBgp, AtMost4000ExportedPrefixes) {
  auto doc = with_policy(testing::strong_policy());
  local(doc)["prefixes"] = nlohmann::json::array();
  for (int i = 0; i < 4001; ++i) {
    local(doc)["prefixes"].push_back("172." + std::to_string(20 + i / 256) + "." + std::to_string(i % 256) + ".0/24");
  }
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.prefixes", "4001 prefixes"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.prefixes", "at most 4000"));
  local(doc)["prefixes"].erase(4000);
  EXPECT_FALSE(load(doc).diagnostics.has_errors()) << testing::dump(load(doc).diagnostics);
  // Without BGP nothing is announced, so there is no limit.
  local(doc)["prefixes"].push_back("172.99.0.0/24");
  props(doc)["enableBgp"] = false;
  EXPECT_FALSE(load(doc).diagnostics.has_errors());
}

TEST(ValidatorBgp, ExportsMustLeaveTheVnetAlone) {
  for (const char* bad : {"10.0.0.0/16", "10.0.2.0/24", "10.0.0.0/8"}) {
    auto doc = with_policy(testing::strong_policy());
    local(doc)["prefixes"].push_back(bad);
    EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.prefixes[1]", "overlaps VNet prefix 10.0.0.0/16"))
        << bad;
  }
  auto doc = with_policy(testing::strong_policy());
  local(doc)["prefixes"].push_back("0.0.0.0/0");
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.prefixes[1]", "default route"));
  doc = with_policy(testing::strong_policy());
  local(doc)["prefixes"].push_back("2001:db8::/32");
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.prefixes[1]", "IPv6"));
  doc = with_policy(testing::strong_policy());
  local(doc)["prefixes"].push_back("192.168.10.0/24");
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "local.prefixes[1]", "listed twice"));
  gateway(doc).erase("vnetPrefixes");
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "vnetPrefixes", "can not be checked"));
}

TEST(ValidatorBgp, ExpressRouteOverlapWarnsAndStrictRefuses) {
  auto doc = with_policy(testing::strong_policy());
  local(doc)["expressRoutePrefixes"] = {"192.168.10.0/24"};
  auto loaded = load(doc);
  EXPECT_FALSE(loaded.diagnostics.has_errors());
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "local.prefixes[0]", "unencrypted"));
  Diagnostics strict;
  auto config = read_configuration(doc, ".", strict);
  ASSERT_TRUE(config);
  validate_configuration(*config, strict, {.strict_expressroute = true});
  EXPECT_TRUE(has(strict, Severity::error, "local.prefixes[0]", "also announced over ExpressRoute"));
  // Covering an ExpressRoute prefix warns; a more specific export is the fix.
  local(doc)["expressRoutePrefixes"] = {"192.168.10.128/25"};
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "local.prefixes[0]", "covers 192.168.10.128/25"));
  local(doc)["expressRoutePrefixes"] = {"192.168.0.0/16", "172.16.0.0/12"};
  EXPECT_FALSE(has(load(doc).diagnostics, Severity::warning, "local.prefixes[0]"));
}

TEST(ValidatorBgp, AddressesAndAsns) {
  auto doc = with_policy(testing::strong_policy());
  local(doc)["bgpPeeringAddress"] = "10.0.255.30";  // Azure's own, and in the VNet
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.bgpPeeringAddress", "Azure's BGP address too"));
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.bgpPeeringAddress", "inside the VNet prefix"));
  doc = with_policy(testing::strong_policy());
  local(doc)["bgpPeeringAddress"] = "2001:db8::1";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.bgpPeeringAddress", "IPv6"));
  doc = with_policy(testing::strong_policy());
  gateway(doc)["bgpSettings"]["bgpPeeringAddress"] = "10.99.255.30";  // a typo: outside the VNet
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "bgpSettings.bgpPeeringAddress", "GatewaySubnet"));
  for (uint32_t asn : {0u, 23456u, 4294967295u}) {
    doc = with_policy(testing::strong_policy());
    gateway(doc)["bgpSettings"]["asn"] = asn;
    EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "bgpSettings.asn", "can not be a BGP speaker")) << asn;
  }
  doc = with_policy(testing::strong_policy());
  gateway(doc)["bgpSettings"]["asn"] = 4200000001u;  // Azure with a 32-bit ASN
  EXPECT_FALSE(load(doc).diagnostics.has_errors());
}

TEST(ValidatorBgp, TheConnectionNameNamesTheBgpSession) {
  auto doc = with_policy(testing::strong_policy());
  doc["connections"][0]["name"] = std::string(33, 'a');
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "connections[0].name", "at most 32"));
  doc["connections"][0]["name"] = std::string(32, 'a');
  EXPECT_FALSE(load(doc).diagnostics.has_errors());
  gateway(doc)["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};  // "-i0" per instance
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "connections[0].name", "at most 29"));
}

// --- IKE identities ----------------------------------------------------------

TEST(ValidatorIdentity, LocalAndRemoteIdentities) {
  auto doc = with_policy(testing::strong_policy());
  local(doc)["ikeIdentity"] = "onprem.example.com";
  gateway(doc)["ikeIdentity"] = "203.0.113.10";
  auto loaded = load(doc);
  EXPECT_FALSE(loaded.diagnostics.has_errors()) << testing::dump(loaded.diagnostics);
  EXPECT_EQ(loaded.config->connections[0].local.ike_identity, "onprem.example.com");
  EXPECT_EQ(loaded.config->connections[0].gateway.ike_identities, std::vector<std::string>{"203.0.113.10"});

  local(doc)["ikeIdentity"] = "%any";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.ikeIdentity", "cannot be this appliance's own"));
  local(doc)["ikeIdentity"] = "bad\"quote";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.ikeIdentity", "allowed: an IP address, an FQDN"));
  local(doc)["ikeIdentity"] = "";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "local.ikeIdentity", "is empty"));
  local(doc).erase("ikeIdentity");

  gateway(doc)["ikeIdentity"] = "%any";
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::warning, "azureGateway.ikeIdentity", "the key alone"));
  gateway(doc)["ikeIdentity"] = {"203.0.113.10", "203.0.113.11"};  // two identities, one tunnel
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "azureGateway.ikeIdentity", "2 identities for 1"));
  gateway(doc)["tunnelIpAddresses"] = {"172.16.0.2", "172.16.0.3"};
  EXPECT_FALSE(load(doc).diagnostics.has_errors()) << testing::dump(load(doc).diagnostics);
  gateway(doc)["ikeIdentity"] = 7;
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "azureGateway.ikeIdentity", "must be an identity string"));
}

// Everything at once: the policy, the connection, BGP and identities.
TEST(Validator, ErrorsOfEveryKindAreReportedTogether) {
  auto policy = testing::strong_policy();
  policy["dhGroup"] = "Bogus";
  policy["ipsecIntegrity"] = "SHA1";
  auto doc = with_policy(policy);
  props(doc)["connectionMode"] = "Sometimes";
  local(doc)["prefixes"].push_back("10.0.1.0/24");
  local(doc)["asn"] = 65517;
  local(doc)["ikeIdentity"] = "%any";
  auto loaded = load(doc);
  const auto text = testing::dump(loaded.diagnostics);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "dhGroup", "Bogus")) << text;
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "ipsecIntegrity", "same GCMAES")) << text;
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "connectionMode", "Sometimes")) << text;
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.prefixes[1]", "overlaps VNet")) << text;
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.asn", "reserved by Azure")) << text;
  EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "local.ikeIdentity")) << text;
  EXPECT_EQ(loaded.diagnostics.error_count(), 6u) << text;
}

}  // namespace
}  // namespace ergw::policy
