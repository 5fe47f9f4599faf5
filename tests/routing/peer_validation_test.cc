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

std::vector<Diagnostic> errors_of(const std::vector<Diagnostic>& all) {
  std::vector<Diagnostic> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::kError; });
  return out;
}

// The one error for `field`, which must name `value`.
void expect_single_error(const BgpPeer& peer, const std::string& field, const std::string& value,
                         const std::string& allowed) {
  auto errors = errors_of(validate_peer(peer));
  ASSERT_EQ(errors.size(), 1u) << join(errors);
  EXPECT_EQ(errors[0].field, "peers[azure0]." + field);
  EXPECT_NE(errors[0].message.find(value), std::string::npos) << errors[0].message;
  EXPECT_NE(errors[0].message.find(allowed), std::string::npos) << errors[0].message;
}

TEST(PeerValidation, TheAzureApipaPeerIsClean) {
  auto diagnostics = validate_peer(azure_apipa_peer());
  EXPECT_TRUE(diagnostics.empty()) << join(diagnostics);
}

TEST(PeerValidation, GatewaySubnetPeerWithLoopbackNeedNotInitiate) {
  BgpPeer peer = azure_apipa_peer();
  peer.vnet_prefixes = {prefix("10.12.0.0/16")};
  peer.peer_address = ip("10.12.255.30");
  peer.local_address = ip("10.200.0.1");
  peer.must_initiate = false;
  EXPECT_TRUE(validate_peer(peer).empty()) << join(validate_peer(peer));
}

TEST(PeerValidation, LocalAddressMustNotBeInTheVnet) {
  BgpPeer peer = azure_apipa_peer();
  peer.local_address = ip("10.1.5.5");
  peer.must_initiate = true;
  expect_single_error(peer, "local_address", "10.1.5.5", "outside the VNet");
}

TEST(PeerValidation, NonApipaPeerOutsideTheVnetWarns) {
  BgpPeer peer = azure_apipa_peer();
  peer.peer_address = ip("10.99.255.30");  // a typo: the VNet is 10.1.0.0/16
  auto diagnostics = validate_peer(peer);
  ASSERT_EQ(diagnostics.size(), 1u) << join(diagnostics);
  EXPECT_EQ(diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(diagnostics[0].field, "peers[azure0].peer_address");
  EXPECT_NE(diagnostics[0].message.find("GatewaySubnet"), std::string::npos);
}

TEST(PeerValidation, ReservedLocalAsns) {
  for (uint32_t asn : {8074u, 8075u, 12076u, 65515u, 65517u, 65518u, 65519u, 65520u, 23456u, 64496u, 64511u, 65535u,
                       65536u, 65551u, 4294967295u, 0u}) {
    BgpPeer peer = azure_apipa_peer();
    peer.local_asn = asn;
    auto errors = errors_of(validate_peer(peer));
    ASSERT_FALSE(errors.empty()) << asn;
    EXPECT_EQ(errors[0].field, "peers[azure0].local_asn") << asn;
    EXPECT_NE(errors[0].message.find(std::to_string(asn) + " is reserved"), std::string::npos) << errors[0].message;
    EXPECT_NE(errors[0].message.find("64512-65514 or 65521-65534"), std::string::npos);
  }
}

TEST(PeerValidation, UsableAsnsIncluding32Bit) {
  for (uint32_t asn : {64512u, 65514u, 65516u, 65521u, 65534u, 65552u, 4200000000u, 4294967294u, 3356u}) {
    BgpPeer peer = azure_apipa_peer();
    peer.local_asn = asn;
    EXPECT_TRUE(errors_of(validate_peer(peer)).empty()) << asn << ": " << join(validate_peer(peer));
  }
  BgpPeer peer = azure_apipa_peer();
  peer.peer_asn = 4200000001u;  // Azure with a 32-bit ASN
  EXPECT_TRUE(errors_of(validate_peer(peer)).empty());
}

TEST(PeerValidation, EqualAsns) {
  BgpPeer peer = azure_apipa_peer();
  peer.local_asn = 65001;
  peer.peer_asn = 65001;
  expect_single_error(peer, "peer_asn", "65001", "must differ");
}

TEST(PeerValidation, ApipaOutsideAzureRange) {
  BgpPeer peer = azure_apipa_peer();
  peer.peer_address = ip("169.254.20.255");
  expect_single_error(peer, "peer_address", "169.254.20.255", "169.254.21.0-169.254.22.255");
  peer.peer_address = ip("169.254.23.0");
  expect_single_error(peer, "peer_address", "169.254.23.0", "169.254.21.0-169.254.22.255");
  peer.peer_address = ip("169.254.22.255");
  EXPECT_TRUE(errors_of(validate_peer(peer)).empty());
}

TEST(PeerValidation, ApipaRequiresInitiating) {
  BgpPeer peer = azure_apipa_peer();
  peer.must_initiate = false;
  expect_single_error(peer, "must_initiate", "false", "allowed: true");
}

TEST(PeerValidation, TimersAreAzures) {
  BgpPeer peer = azure_apipa_peer();
  peer.hold_time_seconds = 30;
  expect_single_error(peer, "hold_time_seconds", "30", "allowed: 180");
  peer = azure_apipa_peer();
  peer.keepalive_seconds = 10;
  expect_single_error(peer, "keepalive_seconds", "10", "allowed: 60");
}

TEST(PeerValidation, ExportLimitIsAzures4000) {
  BgpPeer peer = azure_apipa_peer();
  peer.export_prefixes.clear();
  for (uint32_t i = 0; i < 4001; ++i) peer.export_prefixes.emplace_back(IpAddress::v4((172u << 24) | (i << 8)), 24);
  expect_single_error(peer, "export_prefixes", "4001", "at most 4000");
  peer.export_prefixes.pop_back();
  EXPECT_TRUE(errors_of(validate_peer(peer)).empty());
}

TEST(PeerValidation, ExportOverlappingTheVnet) {
  for (const char* bad : {"10.1.0.0/16", "10.1.2.0/24", "10.0.0.0/8"}) {
    BgpPeer peer = azure_apipa_peer();
    peer.export_prefixes.push_back(prefix(bad));
    expect_single_error(peer, "export_prefixes[2]", bad, "VNet prefix 10.1.0.0/16");
  }
}

TEST(PeerValidation, DefaultRouteOnlyOnPurpose) {
  BgpPeer peer = azure_apipa_peer();
  peer.export_prefixes.push_back(prefix("0.0.0.0/0"));
  expect_single_error(peer, "export_prefixes[2]", "0.0.0.0/0", "allow_default_route_export");
  peer.allow_default_route_export = true;
  EXPECT_TRUE(errors_of(validate_peer(peer)).empty()) << join(validate_peer(peer));
}

TEST(PeerValidation, ExpressRouteEqualPrefixWarnsOrRefusesWhenStrict) {
  BgpPeer peer = azure_apipa_peer();
  peer.expressroute_prefixes = {prefix("192.168.10.0/24")};
  auto diagnostics = validate_peer(peer);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(diagnostics[0].field, "peers[azure0].export_prefixes[0]");
  EXPECT_NE(diagnostics[0].message.find("unencrypted"), std::string::npos);
  EXPECT_NE(diagnostics[0].message.find("more-specific"), std::string::npos);
  EXPECT_NE(diagnostics[0].message.find("disjoint"), std::string::npos);

  auto strict = validate_peer(peer, ValidationOptions{.strict_expressroute = true});
  ASSERT_EQ(strict.size(), 1u);
  EXPECT_EQ(strict[0].severity, Diagnostic::Severity::kError);
}

TEST(PeerValidation, ExpressRouteMoreSpecificExportIsTheFixAndQuiet) {
  BgpPeer peer = azure_apipa_peer();
  peer.expressroute_prefixes = {prefix("192.168.0.0/16")};
  EXPECT_TRUE(validate_peer(peer, ValidationOptions{.strict_expressroute = true}).empty());
  peer.expressroute_prefixes = {prefix("172.16.0.0/12")};  // disjoint
  EXPECT_TRUE(validate_peer(peer, ValidationOptions{.strict_expressroute = true}).empty());
}

TEST(PeerValidation, ExpressRouteMoreSpecificThanTheExportWarns) {
  BgpPeer peer = azure_apipa_peer();
  peer.export_prefixes = {prefix("192.168.0.0/16")};
  peer.expressroute_prefixes = {prefix("192.168.10.0/24")};
  auto diagnostics = validate_peer(peer);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_NE(diagnostics[0].message.find("covers 192.168.10.0/24"), std::string::npos);
}

TEST(PeerValidation, PasswordIsNeverShown) {
  BgpPeer peer = azure_apipa_peer();
  peer.password = Password(std::string("bad\"secret-value"));
  auto errors = errors_of(validate_peer(peer));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "peers[azure0].password");
  EXPECT_EQ(errors[0].to_string().find("secret-value"), std::string::npos);
  peer.password = Password(std::string(81, 'k'));
  errors = errors_of(validate_peer(peer));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("1-80"), std::string::npos);
  EXPECT_EQ(errors[0].message.find("kkkk"), std::string::npos);
}

TEST(PeerValidation, AllErrorsAtOnce) {
  BgpPeer peer = azure_apipa_peer();
  peer.local_asn = 65515;                           // reserved, and equal to peer_asn
  peer.peer_address = ip("169.254.1.1");            // outside Azure's APIPA range
  peer.must_initiate = false;                       // APIPA needs us to initiate
  peer.hold_time_seconds = 90;
  peer.export_prefixes.push_back(prefix("0.0.0.0/0"));
  peer.export_prefixes.push_back(prefix("10.1.0.0/24"));
  peer.kernel_table = 254;
  peer.tunnel_interface = "";
  auto errors = errors_of(validate_peer(peer));
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  for (const char* f : {"local_asn", "peer_asn", "peer_address", "must_initiate", "hold_time_seconds",
                        "export_prefixes[2]", "export_prefixes[3]", "kernel_table", "tunnel_interface"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), std::string("peers[azure0].") + f), fields.end()) << f;
  }
  EXPECT_EQ(errors.size(), 9u) << join(errors);
}

TEST(ConfigValidation, AcrossPeers) {
  BgpPeer a = azure_apipa_peer();
  BgpPeer b = azure_apipa_peer();
  b.local_address = ip("169.254.21.6");
  b.kernel_table = 1001;
  auto errors = errors_of(validate_config(config_of({a, b})));
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"peers[azure0].name", "peers[azure0].peer_address",
                                              "peers[azure0].kernel_table"}))
      << join(errors);
}

TEST(ConfigValidation, IPv6IsRefusedByField) {
  BgpPeer peer = azure_apipa_peer();
  peer.export_prefixes.push_back(prefix("2001:db8::/32"));
  expect_single_error(peer, "export_prefixes[2]", "2001:db8::/32", "IPv4");
}

}  // namespace
}  // namespace ergw::routing
