// Every value of every Azure enum: parsed in any letter case, printed in
// Azure's spelling, and mapped to the strongSwan keyword ergw uses.
#include <algorithm>
#include <cctype>

#include <gtest/gtest.h>

#include "gateway/policy/azure_enums.h"
#include "gateway/policy/compiler.h"
#include "policy_test_support.h"

namespace ergw::policy {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

template <typename E>
void expect_every_value_parses(size_t expected_count) {
  ASSERT_EQ(EnumTraits<E>::names.size(), expected_count);
  for (const auto& entry : EnumTraits<E>::names) {
    for (const auto& spelling : {std::string(entry.name), upper(entry.name), lower(entry.name)}) {
      auto parsed = parse_enum<E>(spelling);
      ASSERT_TRUE(parsed) << spelling;
      EXPECT_EQ(*parsed, entry.value);
      EXPECT_EQ(enum_name(*parsed), entry.name) << "Azure's spelling is reported";
    }
  }
  EXPECT_FALSE(parse_enum<E>("Bogus"));
  EXPECT_FALSE(parse_enum<E>(""));
}

// Counts and spellings from the ARM spec (docs/azure-facts.md, "Enums").
TEST(AzureEnums, EveryValueOfEveryEnumParses) {
  expect_every_value_parses<DhGroup>(8);
  expect_every_value_parses<IkeEncryption>(7);
  expect_every_value_parses<IkeIntegrity>(6);
  expect_every_value_parses<IpsecEncryption>(9);
  expect_every_value_parses<IpsecIntegrity>(6);
  expect_every_value_parses<PfsGroup>(9);
  expect_every_value_parses<ConnectionProtocol>(2);
  expect_every_value_parses<ConnectionMode>(3);
  expect_every_value_parses<ConnectionType>(4);
}

TEST(AzureEnums, AllowedValuesInSpecOrder) {
  EXPECT_EQ(allowed_values<DhGroup>(), "None, DHGroup1, DHGroup2, DHGroup14, DHGroup2048, ECP256, ECP384, DHGroup24");
  EXPECT_EQ(allowed_values<PfsGroup>(), "None, PFS1, PFS2, PFS2048, ECP256, ECP384, PFS24, PFS14, PFSMM");
  EXPECT_EQ(allowed_values<IkeEncryption>(), "DES, DES3, AES128, AES192, AES256, GCMAES256, GCMAES128");
  EXPECT_EQ(allowed_values<IpsecEncryption>(),
            "None, DES, DES3, AES128, AES192, AES256, GCMAES128, GCMAES192, GCMAES256");
}

// Azure's group table and the strongSwan names (docs/azure-facts.md, "Diffie-Hellman groups").
TEST(AzureEnums, DhGroupKeywords) {
  const std::pair<DhGroup, const char*> expected[] = {
      {DhGroup::None, ""},           {DhGroup::DHGroup1, "modp768"},  {DhGroup::DHGroup2, "modp1024"},
      {DhGroup::DHGroup14, "modp2048"}, {DhGroup::DHGroup2048, "modp2048"}, {DhGroup::ECP256, "ecp256"},
      {DhGroup::ECP384, "ecp384"},   {DhGroup::DHGroup24, "modp2048s256"}};
  for (auto [group, keyword] : expected) EXPECT_EQ(dh_group_keyword(group), keyword) << enum_name(group);
  const int numbers[] = {0, 1, 2, 14, 14, 19, 20, 24};
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(ike_group_number(expected[i].first), numbers[i]);
}

TEST(AzureEnums, PfsGroupKeywords) {
  const std::pair<PfsGroup, const char*> expected[] = {
      {PfsGroup::None, ""},        {PfsGroup::PFS1, "modp768"},   {PfsGroup::PFS2, "modp1024"},
      {PfsGroup::PFS2048, "modp2048"}, {PfsGroup::ECP256, "ecp256"}, {PfsGroup::ECP384, "ecp384"},
      {PfsGroup::PFS24, "modp2048s256"}, {PfsGroup::PFS14, "modp2048"}};
  for (auto [group, keyword] : expected) {
    EXPECT_EQ(pfs_group_keyword(group, DhGroup::ECP256), keyword) << enum_name(group);
  }
  // PFSMM: the same group as main mode.
  EXPECT_EQ(pfs_group_keyword(PfsGroup::PFSMM, DhGroup::ECP384), "ecp384");
  EXPECT_EQ(pfs_group_keyword(PfsGroup::PFSMM, DhGroup::DHGroup24), "modp2048s256");
}

IpsecPolicy policy_with(IkeEncryption ike_enc, IkeIntegrity ike_int) {
  IpsecPolicy p;
  p.ike_encryption = ike_enc;
  p.ike_integrity = ike_int;
  p.dh_group = DhGroup::ECP256;
  return p;
}

TEST(AzureEnums, IkeEncryptionAndIntegrityKeywords) {
  const std::pair<IkeEncryption, const char*> enc[] = {
      {IkeEncryption::DES, "des-sha256-ecp256"},       {IkeEncryption::DES3, "3des-sha256-ecp256"},
      {IkeEncryption::AES128, "aes128-sha256-ecp256"}, {IkeEncryption::AES192, "aes192-sha256-ecp256"},
      {IkeEncryption::AES256, "aes256-sha256-ecp256"},
      // GCM: ikeIntegrity becomes the PRF only.
      {IkeEncryption::GCMAES256, "aes256gcm16-prfsha256-ecp256"},
      {IkeEncryption::GCMAES128, "aes128gcm16-prfsha256-ecp256"}};
  for (auto [e, expected] : enc) EXPECT_EQ(ike_proposal(policy_with(e, IkeIntegrity::SHA256)), expected);
  const std::pair<IkeIntegrity, const char*> integ[] = {{IkeIntegrity::MD5, "aes256-md5-ecp256"},
                                                        {IkeIntegrity::SHA1, "aes256-sha1-ecp256"},
                                                        {IkeIntegrity::SHA256, "aes256-sha256-ecp256"},
                                                        {IkeIntegrity::SHA384, "aes256-sha384-ecp256"}};
  for (auto [i, expected] : integ) EXPECT_EQ(ike_proposal(policy_with(IkeEncryption::AES256, i)), expected);
}

TEST(AzureEnums, IpsecEncryptionAndIntegrityKeywords) {
  auto esp = [](IpsecEncryption e, IpsecIntegrity i, PfsGroup pfs) {
    IpsecPolicy p;
    p.ipsec_encryption = e;
    p.ipsec_integrity = i;
    p.pfs_group = pfs;
    p.dh_group = DhGroup::ECP384;
    return esp_proposal(p);
  };
  EXPECT_EQ(esp(IpsecEncryption::None, IpsecIntegrity::SHA256, PfsGroup::None), "null-sha256");
  EXPECT_EQ(esp(IpsecEncryption::DES, IpsecIntegrity::SHA1, PfsGroup::None), "des-sha1");
  EXPECT_EQ(esp(IpsecEncryption::DES3, IpsecIntegrity::MD5, PfsGroup::None), "3des-md5");
  EXPECT_EQ(esp(IpsecEncryption::AES128, IpsecIntegrity::SHA1, PfsGroup::PFS2048), "aes128-sha1-modp2048");
  EXPECT_EQ(esp(IpsecEncryption::AES192, IpsecIntegrity::SHA256, PfsGroup::None), "aes192-sha256");
  EXPECT_EQ(esp(IpsecEncryption::AES256, IpsecIntegrity::SHA256, PfsGroup::PFS24), "aes256-sha256-modp2048s256");
  EXPECT_EQ(esp(IpsecEncryption::GCMAES128, IpsecIntegrity::GCMAES128, PfsGroup::None), "aes128gcm16");
  EXPECT_EQ(esp(IpsecEncryption::GCMAES192, IpsecIntegrity::GCMAES192, PfsGroup::ECP256), "aes192gcm16-ecp256");
  EXPECT_EQ(esp(IpsecEncryption::GCMAES256, IpsecIntegrity::GCMAES256, PfsGroup::PFSMM), "aes256gcm16-ecp384");
}

// Each value of each policy field, read from JSON and accepted (or refused
// only where a rule says so).
TEST(AzureEnums, EveryPolicyFieldValueIsReadFromJson) {
  struct Field {
    const char* key;
    std::vector<std::string> values;
  };
  auto names = [](auto traits) {
    std::vector<std::string> out;
    for (const auto& e : decltype(traits)::names) out.emplace_back(e.name);
    return out;
  };
  const Field fields[] = {{"dhGroup", names(EnumTraits<DhGroup>{})},
                          {"pfsGroup", names(EnumTraits<PfsGroup>{})},
                          {"ikeEncryption", names(EnumTraits<IkeEncryption>{})},
                          {"ikeIntegrity", names(EnumTraits<IkeIntegrity>{})},
                          {"ipsecEncryption", names(EnumTraits<IpsecEncryption>{})},
                          {"ipsecIntegrity", names(EnumTraits<IpsecIntegrity>{})}};
  for (const auto& field : fields) {
    for (const auto& value : field.values) {
      auto doc = testing::valid_config();
      auto policy = testing::strong_policy();
      // Keep the GCM pairing rule satisfied while varying one side.
      if (std::string(field.key) == "ipsecEncryption") policy["ipsecIntegrity"] = value.rfind("GCM", 0) == 0 ? value : "SHA256";
      if (std::string(field.key) == "ipsecIntegrity") policy["ipsecEncryption"] = value.rfind("GCM", 0) == 0 ? value : "AES256";
      if (std::string(field.key) == "ipsecIntegrity" && value.rfind("GCM", 0) != 0) policy["ipsecEncryption"] = "AES256";
      policy[field.key] = lower(value);
      doc["connections"][0]["azure"]["properties"]["ipsecPolicies"] = {policy};
      auto loaded = testing::load(doc);
      ASSERT_TRUE(loaded.config);
      const auto& read = loaded.config->connections[0].azure.ipsec_policy;
      const bool refused_by_rule = (std::string(field.key) == "dhGroup" && value == "None") ||
                                   (std::string(field.key) == "ikeIntegrity" && value.rfind("GCM", 0) == 0);
      ASSERT_TRUE(read) << field.key << "=" << value << "\n" << testing::dump(loaded.diagnostics);
      EXPECT_EQ(loaded.diagnostics.has_errors(), refused_by_rule)
          << field.key << "=" << value << "\n" << testing::dump(loaded.diagnostics);
    }
  }
}

}  // namespace
}  // namespace ergw::policy
