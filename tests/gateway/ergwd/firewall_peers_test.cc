// The nft script ergwd writes for the baseline ruleset's IKE peer sets
// (packaging/nftables/ergw.nft; lab.firewall loads it with real nft).
#include "gateway/ergwd/firewall_peers.h"

#include <gtest/gtest.h>

namespace ergw::gateway {
namespace {

ConnectionPlan plan(std::string name, std::string remote) {
  ConnectionPlan p;
  p.name = std::move(name);
  p.remote = std::move(remote);
  return p;
}

TEST(FirewallPeers, EveryConnectionsAzureTunnelAddressOnceEachFamilyInItsSet) {
  const std::vector<ConnectionPlan> plans{plan("hub-0", "172.16.0.2"), plan("hub-1", "172.16.0.3"),
                                          plan("again", "172.16.0.2"), plan("v6", "2001:db8::2")};
  EXPECT_EQ(ike_peers(plans), (std::set<std::string>{"172.16.0.2", "172.16.0.3", "2001:db8::2"}));
  EXPECT_EQ(render_peer_sets("inet ergw", ike_peers(plans)),
            "flush set inet ergw ike_peers4\n"
            "flush set inet ergw ike_peers6\n"
            "add element inet ergw ike_peers4 { 172.16.0.2, 172.16.0.3 }\n"
            "add element inet ergw ike_peers6 { 2001:db8::2 }\n");
}

TEST(FirewallPeers, NoConnectionsEmptyTheSets) {
  EXPECT_EQ(render_peer_sets("inet ergw", ike_peers({})),
            "flush set inet ergw ike_peers4\nflush set inet ergw ike_peers6\n");
}

}  // namespace
}  // namespace ergw::gateway
