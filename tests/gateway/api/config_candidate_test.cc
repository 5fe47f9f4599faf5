#include "gateway/api/config_candidate.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/parse_json.h"

namespace ergw::api {
namespace {

nlohmann::json example_lab() {
  std::ifstream in(std::string(ERGW_SOURCE_DIR) + "/examples/lab.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return *parse_json(text);
}

constexpr const char* kLabKey = "LabOnlyKey4ergwDemo0123456789abcd";

TEST(ConfigCandidateTest, PsksLeaveTheDocument) {
  Diagnostics d;
  auto c = prepare_candidate(example_lab(), SecretSources::inline_only, "/nonexistent", {}, d);
  ASSERT_TRUE(c) << d.format();
  EXPECT_EQ(c->secrets.at("azure-hub").reveal(), kLabKey);
  EXPECT_EQ(c->document.dump().find(kLabKey), std::string::npos);
  EXPECT_EQ(c->document.dump().find("sharedKey"), std::string::npos);
  EXPECT_EQ(c->config.connections.at(0).azure.shared_key.reveal(), kLabKey);
}

TEST(ConfigCandidateTest, AMissingPskIsCarriedOverByName) {
  Diagnostics d;
  auto first = prepare_candidate(example_lab(), SecretSources::inline_only, "/nonexistent", {}, d);
  ASSERT_TRUE(first);
  // The stored document (no key) comes back in a PUT: the key is carried.
  Diagnostics d2;
  auto again = prepare_candidate(first->document, SecretSources::inline_only, "/nonexistent", first->secrets, d2);
  ASSERT_TRUE(again) << d2.format();
  EXPECT_EQ(again->secrets.at("azure-hub").reveal(), kLabKey);
  // Without anything to carry, the rule book says the key is missing.
  Diagnostics d3;
  EXPECT_FALSE(prepare_candidate(first->document, SecretSources::inline_only, "/nonexistent", {}, d3));
  EXPECT_NE(d3.format().find("connections[0].azure.properties.sharedKey: missing"), std::string::npos) << d3.format();
}

TEST(ConfigCandidateTest, KeyFilesOnlyFromTheConfigurationFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("ergw-candidate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "hub.psk") << "FromAFile0123456789abcdefgh\n";
  std::filesystem::permissions(dir / "hub.psk", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto document = example_lab();
  document["connections"][0]["azure"]["properties"].erase("sharedKey");
  document["connections"][0]["sharedKeyFile"] = "hub.psk";
  Diagnostics api;
  EXPECT_FALSE(prepare_candidate(document, SecretSources::inline_only, dir, {}, api));
  EXPECT_NE(api.format().find("connections[0].sharedKeyFile: not accepted over the API"), std::string::npos);
  Diagnostics file;
  auto c = prepare_candidate(document, SecretSources::inline_and_files, dir, {}, file);
  ASSERT_TRUE(c) << file.format();
  EXPECT_EQ(c->secrets.at("azure-hub").reveal(), "FromAFile0123456789abcdefgh");
  EXPECT_FALSE(c->document["connections"][0].contains("sharedKeyFile"));
  std::filesystem::remove_all(dir);
}

TEST(ConfigCandidateTest, ExportReferencesKeyFiles) {
  Diagnostics d;
  auto c = prepare_candidate(example_lab(), SecretSources::inline_only, "/nonexistent", {}, d);
  ASSERT_TRUE(c);
  const auto text = export_text(c->document, c->secrets, "/etc/ergw/keys");
  EXPECT_EQ(text.find(kLabKey), std::string::npos);
  auto exported = parse_json(text);
  ASSERT_TRUE(exported);
  EXPECT_EQ((*exported)["connections"][0]["sharedKeyFile"], "/etc/ergw/keys/azure-hub.psk");
}

TEST(ConfigCandidateTest, OnlyErgwsFormatIsAConfiguration) {
  for (const char* text : {"[]", R"({"properties": {"connectionType": "IPsec"}})", "17"}) {
    Diagnostics d;
    EXPECT_FALSE(prepare_candidate(*parse_json(text), SecretSources::inline_only, "/nonexistent", {}, d)) << text;
    EXPECT_TRUE(d.has_errors());
  }
}

TEST(ConfigCandidateTest, AStoredRevisionIsValidatedAgain) {
  Diagnostics d;
  auto c = prepare_candidate(example_lab(), SecretSources::inline_only, "/nonexistent", {}, d);
  ASSERT_TRUE(c);
  Diagnostics d2;
  auto again = candidate_from_revision(c->document, c->secrets, d2);
  ASSERT_TRUE(again) << d2.format();
  EXPECT_EQ(again->config.connections.size(), 1u);
}

}  // namespace
}  // namespace ergw::api
