// A connection's BGP password (TCP MD5) is a secret like its PSK: out of the
// stored document, kept apart, carried over by a PUT that cannot repeat it,
// exported to a key file of its own, and the store's diff names it apart.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/parse_json.h"
#include "gateway/api/config_candidate.h"
#include "gateway/api/config_file.h"
#include "gateway/store/revision_store.h"
#include "gateway/store/store_file.h"

namespace ergw::api {
namespace {

constexpr const char* kPassword = "Bgp-Md5-Canary-91c4";

nlohmann::json lab_bgp_with_password() {
  std::ifstream in(std::string(ERGW_SOURCE_DIR) + "/examples/lab-bgp.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = *parse_json(text);
  doc["connections"][0]["bgpPassword"] = kPassword;
  return doc;
}

TEST(BgpPasswordSecret, LeavesTheDocumentAndIsCarriedOver) {
  Diagnostics d;
  auto c = prepare_candidate(lab_bgp_with_password(), SecretSources::inline_only, "/nonexistent", {}, d);
  ASSERT_TRUE(c) << d.format();
  const std::string name = c->config.connections.at(0).name;
  EXPECT_EQ(c->secrets.at(store::bgp_password_secret(name)).reveal(), kPassword);
  EXPECT_EQ(store::bgp_password_connection(store::bgp_password_secret(name)), name);
  EXPECT_FALSE(store::bgp_password_connection(name)) << "a PSK's name is the connection's";
  EXPECT_EQ(c->document.dump().find(kPassword), std::string::npos);
  EXPECT_EQ(c->document.dump().find("bgpPassword"), std::string::npos);

  // The stored document comes back without it: the password stays.
  Diagnostics d2;
  auto again = prepare_candidate(c->document, SecretSources::inline_only, "/nonexistent", c->secrets, d2);
  ASSERT_TRUE(again) << d2.format();
  ASSERT_TRUE(again->config.connections.at(0).bgp_password);
  EXPECT_EQ(again->config.connections.at(0).bgp_password->reveal(), kPassword);
  // Taken out of what is carried (PUT .../bgppassword {"value": null}): gone.
  auto without = c->secrets;
  without.erase(store::bgp_password_secret(name));
  Diagnostics d3;
  auto removed = prepare_candidate(c->document, SecretSources::inline_only, "/nonexistent", without, d3);
  ASSERT_TRUE(removed) << d3.format();
  EXPECT_FALSE(removed->config.connections.at(0).bgp_password);
}

TEST(BgpPasswordSecret, NoFilesOverTheApi) {
  auto doc = lab_bgp_with_password();
  doc["connections"][0].erase("bgpPassword");
  doc["connections"][0]["bgpPasswordFile"] = "/etc/ergw/keys/hub.bgp-password";
  Diagnostics d;
  EXPECT_FALSE(prepare_candidate(doc, SecretSources::inline_only, "/nonexistent", {}, d));
  EXPECT_NE(d.format().find("connections[0].bgpPasswordFile"), std::string::npos) << d.format();
}

TEST(BgpPasswordSecret, ExportedToItsOwnKeyFile) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("bgp-secret-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Diagnostics d;
  auto c = prepare_candidate(lab_bgp_with_password(), SecretSources::inline_only, "/nonexistent", {}, d);
  ASSERT_TRUE(c) << d.format();
  const std::string name = c->config.connections.at(0).name;
  ConfigFile file(dir / "ergw.json", dir / "keys");
  ASSERT_TRUE(file.write(c->document, c->secrets));
  const auto key = dir / "keys" / (name + ".bgp-password");
  ASSERT_TRUE(std::filesystem::exists(key));
  EXPECT_EQ(std::filesystem::status(key).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto text = file.read_text();
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(kPassword), std::string::npos);
  EXPECT_NE(text->find("\"bgpPasswordFile\": \"" + key.string() + "\""), std::string::npos) << *text;

  // Read back as the configuration file: the same password.
  Diagnostics d2;
  auto back = prepare_candidate(*parse_json(*text), SecretSources::inline_and_files, dir, {}, d2);
  ASSERT_TRUE(back) << d2.format();
  EXPECT_EQ(back->secrets.at(store::bgp_password_secret(name)).reveal(), kPassword);

  // Without the password the key file goes.
  auto without = c->secrets;
  without.erase(store::bgp_password_secret(name));
  ASSERT_TRUE(file.write(c->document, without));
  EXPECT_FALSE(std::filesystem::exists(key));
  std::filesystem::remove_all(dir);
}

TEST(BgpPasswordSecret, TheStoreKeepsItApartAndTheDiffNamesIt) {
  auto db = store::open_store(":memory:");
  ASSERT_TRUE(db) << db.error();
  store::RevisionStore revisions(*db.value());
  store::NewRevision first;
  first.document = "{}";
  first.secrets.emplace("hub", policy::Secret("psk-1"));
  auto a = revisions.commit(first);
  ASSERT_TRUE(a) << a.error();
  store::NewRevision second = first;
  second.secrets.emplace(store::bgp_password_secret("hub"), policy::Secret(kPassword));
  auto b = revisions.commit(second);
  ASSERT_TRUE(b) << b.error();
  auto changed = store::read_changed_secrets(*db.value(), a.value(), b.value());
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed.value(), std::vector<std::string>{store::bgp_password_secret("hub")});
  auto kept = revisions.secrets(b.value());
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->at(store::bgp_password_secret("hub")).reveal(), kPassword);
  auto stored = revisions.get(b.value());
  ASSERT_TRUE(stored && stored.value());
  EXPECT_EQ(stored.value()->document.find(kPassword), std::string::npos);
  EXPECT_NE(revisions.content_hash("{}", first.secrets).value(), revisions.content_hash("{}", second.secrets).value());
}

}  // namespace
}  // namespace ergw::api
