#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "host/process.h"
#include "routing/bird_config_writer.h"
#include "tests/common/text_contains.h"
#include "tests/routing/azure_peer.h"

namespace ergw::routing {
namespace {

using testing::azure_apipa_peer;
using testing::config_of;
using testing::ip;
using testing::prefix;

constexpr const char* kBird = "/usr/sbin/bird";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ergw-bird-config-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using ergw::testing::contains;

// `bird -p -c FILE`: BIRD's own parser is the judge of every generated config.
std::string bird_parse_errors(const std::string& text) {
  TempDir dir;
  std::string file = dir.path() + "/bird.conf";
  if (auto status = write_config_file(file, text); !status.ok()) return status.error();
  const auto r = host::run_command({kBird, "-p", "-c", file});
  if (!r.ok()) return r.out + r.err + (r.out.empty() && r.err.empty() ? "bird -p failed" : "");
  return "";
}

void expect_bird_accepts(const BirdConfig& config) {
  if (::access(kBird, X_OK) != 0) GTEST_SKIP() << kBird << " is not installed (Debian package bird2)";
  auto generated = generate_bird_config(config);
  ASSERT_TRUE(generated.ok()) << generated.error();
  EXPECT_EQ(bird_parse_errors(generated.value()), "") << generated.value();
}

TEST(BirdConfig, ApipaPeerHasEverythingAzureNeeds) {
  BgpPeer peer = azure_apipa_peer();
  std::string text = render_bird_config(config_of({peer}));
  EXPECT_TRUE(contains(text, "protocol bgp ergw_azure0 {"));
  EXPECT_TRUE(contains(text, "  local 169.254.21.2 as 65010;\n"));
  EXPECT_TRUE(contains(text, "  neighbor 169.254.21.1 as 65515;\n"));
  EXPECT_TRUE(contains(text, "  source address 169.254.21.2;\n"));
  EXPECT_TRUE(contains(text, "  multihop;\n"));
  EXPECT_TRUE(contains(text, "  hold time 180;\n  keepalive time 60;\n"));
  EXPECT_TRUE(contains(text, "  connect retry time 30;\n"));
  EXPECT_TRUE(contains(text, "  graceful restart aware;\n  long lived graceful restart off;\n"));
  EXPECT_TRUE(contains(text, "    import filter ergw_azure0_import;\n    export filter ergw_azure0_export;\n"));
  EXPECT_TRUE(contains(text, "    import keep filtered on;\n    import limit 1000 action block;\n"));
  EXPECT_TRUE(contains(text, "  error wait time 5, 60;\n  error forget time 300;\n"));
  EXPECT_TRUE(contains(text, "  route 169.254.21.1/32 via \"ipsec0\";"));
  EXPECT_TRUE(contains(text, "  route 192.168.10.0/24 blackhole;\n  route 192.168.20.0/24 blackhole;\n"));
  EXPECT_TRUE(contains(text, "  kernel table 1000;\n"));
  EXPECT_TRUE(contains(text, "export where source = RTS_BGP || proto = \"ergw_tunnel_routes\";"));
  EXPECT_TRUE(contains(text, "protocol device ergw_device"));
  EXPECT_TRUE(contains(text, "if net ~ [ 10.1.0.0/16+ ] then reject;"));
  EXPECT_TRUE(contains(text, "if net ~ [ 192.168.10.0/24, 192.168.20.0/24 ] then accept;"));
  EXPECT_FALSE(contains(text, "password \""));
  EXPECT_TRUE(contains(text, "log syslog all;"));
}

TEST(BirdConfig, ApipaPeerParsesInBird) { expect_bird_accepts(config_of({azure_apipa_peer()})); }

TEST(BirdConfig, GatewaySubnetPeerWithNextHopPasswordAndTtlParsesInBird) {
  BgpPeer peer = azure_apipa_peer();
  peer.peer_address = ip("10.12.255.30");
  peer.local_address = ip("10.200.0.1");
  peer.must_initiate = false;
  peer.multihop_ttl = 2;
  peer.tunnel_interface = "ipsec-0";
  peer.tunnel_next_hop = ip("10.12.255.29");
  peer.password = Secret(std::string("s3cret!#{}"));
  peer.graceful_restart = GracefulRestart::kOff;
  peer.import_limit_action = ImportLimitAction::kRestart;
  peer.vnet_prefixes = {prefix("10.12.0.0/16"), prefix("10.13.0.0/16")};
  BirdConfig config = config_of({peer});
  config.log_file = "/var/log/ergw/bird.log";
  std::string text = render_bird_config(config);
  EXPECT_TRUE(contains(text, "  multihop 2;\n"));
  EXPECT_TRUE(contains(text, "route 10.12.255.30/32 via 10.12.255.29%'ipsec-0' onlink;"));
  EXPECT_TRUE(contains(text, "  password \"s3cret!#{}\";\n"));
  EXPECT_TRUE(contains(text, "  graceful restart off;\n"));
  EXPECT_FALSE(contains(text, "connect retry time"));
  EXPECT_TRUE(contains(text, "log \"/var/log/ergw/bird.log\" all;"));
  expect_bird_accepts(config);
}

TEST(BirdConfig, TwoPeersAndEmptyExportsParseInBird) {
  BgpPeer a = azure_apipa_peer();
  BgpPeer b = azure_apipa_peer();
  b.name = "azure1";
  b.peer_address = ip("169.254.22.1");
  b.local_address = ip("169.254.22.2");
  b.export_prefixes.clear();
  b.vnet_prefixes.clear();
  BirdConfig config = config_of({a, b});
  std::string text = render_bird_config(config);
  // An export filter with nothing to export rejects everything.
  auto export_b = text.find("filter ergw_azure1_export {");
  ASSERT_NE(export_b, std::string::npos);
  EXPECT_EQ(text.substr(export_b, text.find('}', export_b) - export_b),
            "filter ergw_azure1_export {\n  if proto != \"ergw_originate\" then reject;\n  reject;\n");
  expect_bird_accepts(config);
}

// Active-active with a preferred instance: the other instance's session is a
// backup - a lower local preference on import, ergw's ASN prepended on export.
TEST(BirdConfig, BackupSessionPrefersTheOtherInstanceAndParsesInBird) {
  BgpPeer preferred = azure_apipa_peer();
  BgpPeer backup = azure_apipa_peer();
  backup.name = "azure1";
  backup.peer_address = ip("169.254.22.1");
  backup.backup = true;
  BirdConfig config = config_of({preferred, backup});
  const std::string text = render_bird_config(config);
  const auto import_a = text.substr(text.find("filter ergw_" + preferred.name + "_import {"));
  const auto import_b = text.substr(text.find("filter ergw_azure1_import {"));
  EXPECT_FALSE(contains(import_a.substr(0, import_a.find('}')), "bgp_local_pref"));
  EXPECT_TRUE(contains(import_b.substr(0, import_b.find('}')), "  bgp_local_pref = 50;\n"));
  const auto export_b = text.substr(text.find("filter ergw_azure1_export {"));
  EXPECT_TRUE(contains(export_b, "    bgp_path.prepend(" + std::to_string(backup.local_asn) + ");\n"));
  EXPECT_TRUE(contains(text, "  merge paths on;\n")) << "equal sessions are ECMP";
  expect_bird_accepts(config);
}

TEST(BirdConfig, NoPeersParsesInBird) {
  BirdConfig config;
  config.router_id = ip("192.0.2.1");
  std::string text = render_bird_config(config);
  EXPECT_FALSE(contains(text, "protocol kernel"));
  expect_bird_accepts(config);
}

TEST(BirdConfig, GenerateRefusesInvalidPeersWithEveryError) {
  BgpPeer peer = azure_apipa_peer();
  peer.local_asn = 0;
  peer.hold_time_seconds = 2;
  auto generated = generate_bird_config(config_of({peer}));
  ASSERT_FALSE(generated.ok());
  EXPECT_TRUE(contains(generated.error(), "peers[azure0].local_asn: 0 is not an AS number"));
  EXPECT_TRUE(contains(generated.error(), "peers[azure0].hold_time_seconds: 2"));
}

TEST(BirdConfig, EqualConfigsRenderEqualAndChangesShow) {
  BirdConfig a = config_of({azure_apipa_peer()});
  BirdConfig b = a;
  EXPECT_TRUE(a == b);
  EXPECT_EQ(render_bird_config(a), render_bird_config(b));
  b.peers[0].password = Secret(std::string("changed"));
  EXPECT_FALSE(a == b);
  EXPECT_NE(render_bird_config(a), render_bird_config(b));
}

TEST(BirdConfigFile, WrittenWithMode0600AndReplacedAtomically) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string file = dir.path() + "/bird.conf";
  ::umask(0);  // even a permissive umask must not widen the mode
  ASSERT_TRUE(write_config_file(file, "first\n").ok());
  ASSERT_TRUE(write_config_file(file, "second\n").ok());
  ::umask(022);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), "second\n");
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
}

TEST(BirdConfigFile, GivenToBirdsUserWhenAsked) {
  const passwd* bird_user = ::getpwnam("bird");
  if (::geteuid() != 0 || bird_user == nullptr) GTEST_SKIP() << "needs root and the user \"bird\" (package bird2)";
  TempDir dir;
  std::string file = dir.path() + "/bird.conf";
  ASSERT_TRUE(write_config_file(file, "x\n", FileOwner{bird_user->pw_uid, bird_user->pw_gid}).ok());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, bird_user->pw_uid);
  EXPECT_EQ(st.st_gid, bird_user->pw_gid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(BirdConfigFile, ReportsUnwritableDirectory) {
  auto status = write_config_file("/nonexistent-dir-ergw/bird.conf", "x");
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error(), "/nonexistent-dir-ergw/bird.conf.tmp"));
}

}  // namespace
}  // namespace ergw::routing
