// What BIRD can be given: symbols, quoting, IPv4 channels, timers in BIRD's
// ranges, kernel tables. Azure's own BGP rules (reserved ASNs, its APIPA
// range, 4,000 prefixes, ExpressRoute) are the policy validator's and are
// tested there (tests/gateway/policy/validator_test.cc).
#include <gtest/gtest.h>

#include <algorithm>

#include "routing/peer_validation.h"
#include "tests/routing/azure_peer.h"

namespace ergw::routing {
namespace {

using testing::azure_apipa_peer;
using testing::config_of;
using testing::ip;
using testing::prefix;

Diagnostics validated(const BgpPeer& peer) {
  Diagnostics d;
  validate_peer(peer, d);
  return d;
}

// The one error, for `field`, which must name `value` and `allowed`.
void expect_single_error(const BgpPeer& peer, const std::string& field, const std::string& value,
                         const std::string& allowed) {
  const auto d = validated(peer);
  ASSERT_EQ(d.error_count(), 1u) << d.format();
  const auto& e = d.all().front();
  EXPECT_EQ(e.path, "peers[azure0]." + field);
  EXPECT_NE(e.message.find(value), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(allowed), std::string::npos) << e.message;
}

TEST(PeerValidation, TheAzureApipaPeerIsClean) {
  const auto d = validated(azure_apipa_peer());
  EXPECT_TRUE(d.all().empty()) << d.format();
}

TEST(PeerValidation, NamesAreBirdSymbols) {
  BgpPeer peer = azure_apipa_peer();
  peer.name = "has-dash";
  auto d = validated(peer);
  ASSERT_EQ(d.error_count(), 1u) << d.format();
  EXPECT_EQ(d.all()[0].path, "peers[has-dash].name");
  EXPECT_NE(d.all()[0].message.find("a-z, A-Z, 0-9 and '_'"), std::string::npos);
  peer.name = std::string(33, 'a');
  EXPECT_EQ(validated(peer).error_count(), 1u);
  peer.name = "9starts_with_digit";  // fine: BIRD sees "ergw_9starts_with_digit"
  EXPECT_FALSE(validated(peer).has_errors());
}

TEST(PeerValidation, AsZeroIsNoAsNumber) {
  BgpPeer peer = azure_apipa_peer();
  peer.peer_asn = 0;
  expect_single_error(peer, "peer_asn", "0", "1-4294967295");
  peer = azure_apipa_peer();
  peer.local_asn = 4200000000u;  // 32-bit ASNs are fine for BIRD
  EXPECT_FALSE(validated(peer).has_errors());
}

TEST(PeerValidation, TimersInBirdsRanges) {
  BgpPeer peer = azure_apipa_peer();
  peer.hold_time_seconds = 2;
  EXPECT_TRUE(validated(peer).has_errors());
  peer = azure_apipa_peer();
  peer.keepalive_seconds = 180;  // not below the hold time
  expect_single_error(peer, "keepalive_seconds", "180", "less than hold_time_seconds");
  peer = azure_apipa_peer();
  peer.hold_time_seconds = 0;  // forgotten: BIRD would not use Azure's timers
  EXPECT_TRUE(validated(peer).has_errors());
}

TEST(PeerValidation, AddressesAreIpv4AndDiffer) {
  BgpPeer peer = azure_apipa_peer();
  peer.peer_address = ip("2001:db8::1");
  expect_single_error(peer, "peer_address", "2001:db8::1", "IPv4");
  peer = azure_apipa_peer();
  peer.local_address = peer.peer_address;
  expect_single_error(peer, "local_address", "169.254.21.1", "different addresses");
}

TEST(PeerValidation, PasswordIsNeverShown) {
  BgpPeer peer = azure_apipa_peer();
  peer.password = Secret(std::string("bad\"secret-value"));
  auto d = validated(peer);
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.all()[0].path, "peers[azure0].password");
  EXPECT_EQ(d.format().find("secret-value"), std::string::npos);
  peer.password = Secret(std::string(81, 'k'));
  d = validated(peer);
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_NE(d.all()[0].message.find("1-80"), std::string::npos);
  EXPECT_EQ(d.format().find("kkkk"), std::string::npos);
}

TEST(PeerValidation, AllErrorsAtOnce) {
  BgpPeer peer = azure_apipa_peer();
  peer.local_asn = 0;
  peer.peer_address = ip("2001:db8::2");
  peer.keepalive_seconds = 0;
  peer.export_prefixes.push_back(prefix("2001:db8::/32"));
  peer.kernel_table = 254;
  peer.tunnel_interface = "";
  peer.import_limit = 0;
  const auto d = validated(peer);
  std::vector<std::string> paths;
  for (const auto& e : d.all()) paths.push_back(e.path);
  for (const char* f : {"local_asn", "peer_address", "keepalive_seconds", "export_prefixes[2]", "kernel_table",
                        "tunnel_interface", "import_limit"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), std::string("peers[azure0].") + f), paths.end()) << f;
  }
  EXPECT_EQ(d.error_count(), 7u) << d.format();
}

TEST(ConfigValidation, AcrossPeers) {
  BgpPeer a = azure_apipa_peer();
  BgpPeer b = azure_apipa_peer();
  b.local_address = ip("169.254.21.6");
  b.kernel_table = 1001;
  Diagnostics d;
  validate_config(config_of({a, b}), d);
  std::vector<std::string> paths;
  for (const auto& e : d.all()) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"peers[azure0].name", "peers[azure0].peer_address",
                                             "peers[azure0].kernel_table"}))
      << d.format();
}

TEST(ConfigValidation, TheCallerNamesThePeer) {
  BgpPeer peer = azure_apipa_peer();
  peer.kernel_table = 255;
  Diagnostics d;
  validate_config(config_of({peer}), d, [](const BgpPeer&) { return std::string("connection \"hub\" bgp"); });
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.all()[0].path, "connection \"hub\" bgp.kernel_table");
}

}  // namespace
}  // namespace ergw::routing
