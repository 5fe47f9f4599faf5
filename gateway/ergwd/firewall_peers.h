// The appliance's nftables baseline (packaging/nftables/ergw.nft) lets IKE
// (UDP 500/4500) and ESP in only from the addresses in its sets ike_peers4
// and ike_peers6. ergwd fills them from the configuration it applies: every
// connection's Azure tunnel address. A connection added through the API is
// reachable at once; one removed is closed at once.
//
// ergwd writes the sets as an nft script (flush, then add) and runs `nft -f`
// on it; the script replaces both sets in one transaction, so no moment
// passes with an empty set. Without a table configured (the lab, the tests)
// nothing is done.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gateway/ergwd/connection_plan.h"
#include "host/child_process.h"

namespace ergw::gateway {

struct FirewallOptions {
  std::string table;          // "inet ergw"; empty: ergwd leaves nftables alone
  std::string script_path;    // where the nft script is written (/run/ergw/firewall-peers.nft)
  std::string nft = "nft";
};

// The IKE peers of `plans`, sorted and without duplicates.
std::set<std::string> ike_peers(const std::vector<ConnectionPlan>& plans);

// The nft script that makes the table's sets hold exactly `peers`.
std::string render_peer_sets(const std::string& table, const std::set<std::string>& peers);

class FirewallPeers {
 public:
  FirewallPeers(FirewallOptions options, host::Launcher& launcher);
  ~FirewallPeers();
  // Makes the sets hold the peers of `plans` (only when they changed).
  void apply(const std::vector<ConnectionPlan>& plans);

 private:
  FirewallOptions options_;
  host::Launcher& launcher_;
  std::set<std::string> applied_;
  bool ever_applied_ = false;
  std::unique_ptr<host::ChildProcess> command_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
