// bgpPassword / bgpPasswordFile: read, checked, compiled into the BGP intent,
// and never shown - not in a diagnostic, not when it is wrong.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/policy/compiler.h"
#include "gateway/policy/connection_reader.h"
#include "policy_test_support.h"

namespace ergw::policy {
namespace {

using testing::has;
using testing::load;

constexpr const char* kPassword = "Md5-Canary-7f3e1b";

nlohmann::json& conn0(nlohmann::json& doc) { return doc["connections"][0]; }

std::string everything(const Diagnostics& d) {
  std::string out;
  for (const auto& f : d.all()) out += f.path + " " + f.message + " " + f.fix + "\n";
  return out;
}

TEST(BgpPassword, ReadCompiledAndWarnedAboutAzure) {
  auto doc = testing::valid_config();
  conn0(doc)["bgpPassword"] = kPassword;
  auto loaded = load(doc);
  ASSERT_TRUE(loaded.config);
  EXPECT_FALSE(loaded.diagnostics.has_errors()) << testing::dump(loaded.diagnostics);
  // Azure's VPN gateway signs no BGP session: a warning, not a refusal (the
  // peer may be a router of the operator's own behind the tunnel).
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "connections[0].bgpPassword", "has no BGP password"));
  const auto& spec = loaded.config->connections[0];
  ASSERT_TRUE(spec.bgp_password);
  EXPECT_EQ(spec.bgp_password->reveal(), kPassword);
  const auto compiled = compile(*loaded.config);
  ASSERT_EQ(compiled.bgp_peers.size(), 1u);
  ASSERT_TRUE(compiled.bgp_peers[0].password);
  EXPECT_EQ(compiled.bgp_peers[0].password->reveal(), kPassword);
  EXPECT_EQ(everything(loaded.diagnostics).find(kPassword), std::string::npos);
}

TEST(BgpPassword, WithoutOneThePeerHasNone) {
  auto loaded = load(testing::valid_config());
  ASSERT_TRUE(loaded.config);
  const auto compiled = compile(*loaded.config);
  ASSERT_EQ(compiled.bgp_peers.size(), 1u);
  EXPECT_FALSE(compiled.bgp_peers[0].password);
  EXPECT_FALSE(has(loaded.diagnostics, Severity::warning, "bgpPassword"));
}

TEST(BgpPassword, BadValuesAreRefusedWithoutShowingThem) {
  const std::string long_one(81, 'x');
  for (const std::string& bad : {std::string(""), long_one, std::string("quote\"Canary-7f3e1b"),
                                 std::string("back\\slashCanary-7f3e1b"), std::string("tab\tCanary-7f3e1b"),
                                 std::string("utf8-\xc3\xa9-Canary-7f3e1b")}) {
    auto doc = testing::valid_config();
    conn0(doc)["bgpPassword"] = bad;
    auto loaded = load(doc);
    EXPECT_TRUE(has(loaded.diagnostics, Severity::error, "connections[0].bgpPassword", "value not shown"))
        << testing::dump(loaded.diagnostics);
    if (!bad.empty()) {
      EXPECT_EQ(everything(loaded.diagnostics).find(bad), std::string::npos);
      EXPECT_EQ(everything(loaded.diagnostics).find("Canary-7f3e1b"), std::string::npos);
    }
  }
  auto doc = testing::valid_config();
  conn0(doc)["bgpPassword"] = std::string(80, 'x');
  EXPECT_FALSE(load(doc).diagnostics.has_errors()) << "80 bytes is Linux's TCP_MD5SIG_MAXKEYLEN";
  conn0(doc)["bgpPassword"] = 42;
  EXPECT_TRUE(has(load(doc).diagnostics, Severity::error, "connections[0].bgpPassword"));
}

TEST(BgpPassword, UnusedWithoutBgp) {
  auto doc = testing::valid_config();
  conn0(doc)["bgpPassword"] = kPassword;
  conn0(doc)["azure"]["properties"]["enableBgp"] = false;
  auto loaded = load(doc);
  EXPECT_TRUE(has(loaded.diagnostics, Severity::warning, "connections[0].bgpPassword", "does not enable BGP"));
  ASSERT_TRUE(loaded.config);
  EXPECT_TRUE(compile(*loaded.config).bgp_peers.empty());
}

TEST(BgpPassword, FromAFileRelativeToTheConfiguration) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("bgp-password-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "hub.bgp-password") << kPassword << "\n";
  }
  ::chmod((dir / "hub.bgp-password").c_str(), 0600);
  auto doc = testing::valid_config();
  conn0(doc)["bgpPasswordFile"] = "hub.bgp-password";
  std::ofstream(dir / "ergw.json") << doc.dump();
  Diagnostics diagnostics;
  auto config = read_configuration_file(dir / "ergw.json", diagnostics);
  ASSERT_TRUE(config);
  ASSERT_TRUE(config->connections[0].bgp_password);
  EXPECT_EQ(config->connections[0].bgp_password->reveal(), kPassword);

  // Both forms at once: one of them is an error.
  conn0(doc)["bgpPassword"] = kPassword;
  std::ofstream(dir / "ergw.json") << doc.dump();
  Diagnostics both;
  (void)read_configuration_file(dir / "ergw.json", both);
  EXPECT_TRUE(has(both, Severity::error, "connections[0].bgpPasswordFile", "give one of them"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ergw::policy
