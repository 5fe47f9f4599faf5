// What the lab writes and runs: strongswan.conf, the daemon command line,
// the demo swanctl.conf, addresses and names.
#include <gtest/gtest.h>

#include <set>

#include "lab/charon_instance.h"
#include "lab/demo_tunnel.h"
#include "lab/lab_config.h"
#include "lab/supervisor.h"

namespace ergw::lab {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(LabStrongswanConf, LibipsecViciAndOwnPaths) {
  Supervisor supervisor;
  CharonOptions options;
  options.name = "appliance";
  options.netns = "ergw-1a-appl";
  options.dir = "/run/ergw-lab/1a/appliance";
  options.log_level = 2;
  options.subsystem_log_levels = {{"esp", 3}, {"knl", 0}};
  const CharonInstance charon(options, supervisor);
  const std::string conf = charon.render_strongswan_conf();
  EXPECT_TRUE(has(conf, "load_modular = no"));
  for (const char* plugin : {" kernel-libipsec", " kernel-netlink", " socket-default", " vici", " openssl", " gcm"}) {
    EXPECT_TRUE(has(conf, plugin)) << plugin;
  }
  EXPECT_TRUE(has(conf, "socket = unix:///run/ergw-lab/1a/appliance/charon.vici"));
  EXPECT_TRUE(has(conf, "install_routes = no"));
  EXPECT_TRUE(has(conf, "routing_table_prio = 32800"));  // behind main (32766), see charon_instance.h
  EXPECT_TRUE(has(conf, "path = /run/ergw-lab/1a/appliance/charon.log"));
  EXPECT_TRUE(has(conf, "default = 2\n      esp = 3\n      knl = 0\n"));
  EXPECT_EQ(charon.vici_uri(), "unix:///run/ergw-lab/1a/appliance/charon.vici");
}

TEST(LabDaemonCommand, PrivateRunWithStateBoundBack) {
  DaemonSpec spec;
  spec.name = "charon-appliance";
  spec.netns = "ergw-1a-appl";
  spec.argv = {"/usr/lib/ipsec/charon"};
  spec.run_dirs = {"/run/strongswan"};
  spec.keep_visible = {"/run/ergw-lab/1a"};
  spec.staging_dir = "/run/ergw-lab/1a/.run-charon-appliance";
  const auto argv = daemon_command(spec);
  ASSERT_GE(argv.size(), 12u);
  EXPECT_EQ((std::vector<std::string>(argv.begin(), argv.begin() + 4)),
            (std::vector<std::string>{"ip", "netns", "exec", "ergw-1a-appl"}));
  EXPECT_EQ(argv[4], "unshare");
  const std::string& script = argv[argv.size() - 3];
  EXPECT_TRUE(has(script, "mount -n -t tmpfs -o mode=0755 none '/run/ergw-lab/1a/.run-charon-appliance'"));
  EXPECT_TRUE(has(script, "mount -n --bind '/run/ergw-lab/1a' '/run/ergw-lab/1a/.run-charon-appliance/ergw-lab/1a'"));
  EXPECT_TRUE(has(script, "mount -n --move '/run/ergw-lab/1a/.run-charon-appliance' /run"));
  EXPECT_TRUE(has(script, "mkdir -p '/run/strongswan'"));
  EXPECT_TRUE(has(script, "exec \"$@\""));
  EXPECT_EQ(argv[argv.size() - 2], "sh");  // $0 of the script
  EXPECT_EQ(argv.back(), "/usr/lib/ipsec/charon");
}

TEST(LabDaemonCommand, PlainPrivateRun) {
  DaemonSpec spec;
  spec.netns = "ns";
  spec.argv = {"bird", "-f"};
  const auto argv = daemon_command(spec);
  EXPECT_TRUE(has(argv[argv.size() - 4], "mount -n -t tmpfs -o mode=0755 none /run"));
  EXPECT_EQ(argv[argv.size() - 2], "bird");
}

TEST(LabDemoSwanctlConf, AzureStyleBaseline) {
  const std::string psk = random_psk();
  EXPECT_EQ(psk.size(), 64u);
  EXPECT_NE(psk, random_psk());
  const std::string conf = render_demo_swanctl_conf({"azure", "172.16.0.1", "172.16.0.2"}, psk);
  EXPECT_TRUE(has(conf, "version = 2"));
  EXPECT_TRUE(has(conf, "proposals = aes256-sha256-modp2048"));
  EXPECT_TRUE(has(conf, "esp_proposals = aes256gcm16"));
  EXPECT_TRUE(has(conf, "local_ts = 0.0.0.0/0"));
  EXPECT_TRUE(has(conf, "remote_ts = 0.0.0.0/0"));
  EXPECT_TRUE(has(conf, "auth = psk"));
  EXPECT_TRUE(has(conf, "remote_addrs = 172.16.0.2"));
  EXPECT_TRUE(has(conf, "secret = 0x" + psk));
}

TEST(LabAddressesCheck, DefaultsAreValid) {
  EXPECT_TRUE(LabAddresses{}.validate().ok());
}

TEST(LabAddressesCheck, RejectsBadValues) {
  LabAddresses a;
  a.vnet_host = "10.0.2.10";  // no length
  EXPECT_FALSE(a.validate().ok());
  a = {};
  a.vnet_prefix = "192.168.0.0/16";  // does not contain vnet_host
  const Status s = a.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(has(s.error(), "vnet_prefix"));
  a = {};
  a.onprem_prefix = "192.168.10.1/24";  // host bits
  EXPECT_FALSE(a.validate().ok());
}

TEST(LabNames, UniqueIdsAndNamespaceNames) {
  std::set<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.insert(make_labid());
  EXPECT_EQ(ids.size(), 60u);
  EXPECT_EQ(netns_name("4711a", Node::appliance), "ergw-4711a-appl");
  EXPECT_EQ(netns_name("4711a", Node::azure_gw), "ergw-4711a-azgw");
  EXPECT_EQ(netns_name("4711a", Node::onprem), "ergw-4711a-onprem");
  EXPECT_EQ(netns_name("4711a", Node::vnet), "ergw-4711a-vnet");
  EXPECT_EQ(address_only("192.168.10.1/24"), "192.168.10.1");
}

}  // namespace
}  // namespace ergw::lab
