// BgpController: ergwd's side of BGP with Azure. It runs one BIRD (its own
// config file, control socket and pid file under --bird-dir) when at least one
// connection enables BGP, and keeps it in line with the configuration:
//   - plan_bgp() maps the compiler's BgpPeerIntents to routing::BgpPeers and
//     validates them with the routing rules; a refused plan changes nothing;
//   - apply() writes and installs the config with `configure check` then
//     `configure` (never a restart), sets up the ip rules and the appliance's
//     BGP address on lo;
//   - a timer restarts BIRD if it died and re-applies the tunnel states;
//   - tunnel down -> `disable` the peer's protocol (its routes leave the
//     kernel table at once instead of after 180 s of hold time); tunnel up ->
//     `enable`.
// Route layout (docs/bgp.md): the host route to Azure's BGP address goes into
// the tunnel device with the reconciler's static routes (add_bgp_host_routes);
// learned routes go to ergw's table; rule kUnderlayRulePriority sends Azure's
// tunnel addresses to main before rule kTableRulePriority consults ergw's
// table, so IKE/ESP never follows a learned prefix into the tunnel.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "gateway/ergwd/connection_plan.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/host_network.h"
#include "gateway/policy/strongswan_config.h"
#include "routing/bgp_peer.h"
#include "routing/bird_process.h"
#include "routing/diagnostic.h"
#include "vici/client.h"

namespace ergw::gateway {

struct BgpOptions {
  std::string bird_dir = "/run/ergw/bird";  // bird.conf, bird.ctl, bird.pid, bird.log
  std::string bird_binary = "/usr/sbin/bird";
  uint32_t kernel_table = 1000;
  uint32_t underlay_rule_priority = 1000;  // to <Azure tunnel address> lookup main
  uint32_t table_rule_priority = 1001;     // lookup <kernel_table>
  bool strict_expressroute = false;
  std::chrono::milliseconds supervise_interval{1000};
};

struct BgpPeerPlan {
  routing::BgpPeer peer;
  std::string connection;  // the IKE connection whose tunnel carries it
};

struct BgpPlan {
  std::vector<BgpPeerPlan> peers;  // empty: BGP off, no BIRD
  routing::BirdConfig config;
  std::string text;  // rendered BIRD config; holds passwords, never logged
  std::vector<IpAddress> underlay_addresses;  // Azure tunnel addresses of BGP connections
  std::vector<routing::Diagnostic> warnings;
};

// Maps the compiler's intents to peers and validates them (routing rules:
// reserved ASNs, Azure's APIPA range, equal ASNs, 4,000 exports, ExpressRoute
// overlap, ...). The error lists every problem, one per line, each naming the
// connection.
Result<BgpPlan> plan_bgp(const policy::CompiledConfiguration& compiled, const std::vector<ConnectionPlan>& plans,
                         DataPlaneKind data_plane, const BgpOptions& options);

// The host route to Azure's BGP address goes into the tunnel with the
// connection's other routes: it never depends on BGP.
void add_bgp_host_routes(const BgpPlan& bgp, std::vector<ConnectionPlan>& plans);

class BgpController {
 public:
  BgpController(boost::asio::io_context& io, vici::Client& client, BgpOptions options);
  ~BgpController();  // stops BIRD; rules and addresses stay (ergwd restarts keep forwarding)
  BgpController(const BgpController&) = delete;
  BgpController& operator=(const BgpController&) = delete;

  // Makes BIRD, the rules and the addresses match `plan` (after a load that
  // passed validation).
  void apply(BgpPlan plan);
  // ike-updown / child-updown: a tunnel of ours went down -> disable its
  // session now; either way, re-check the tunnels soon.
  void tunnel_event(const std::string& name, const vici::Message& message);
  // The "bgp" object of `ergw status`.
  nlohmann::json status();

 private:
  std::string path(const char* file) const { return options_.bird_dir + "/" + file; }
  Status start_bird();
  void stop_bird();
  void stop_stale_bird();
  void sync_host_network();
  void supervise();
  // Lists the SAs and enables/disables each peer's protocol to match its
  // tunnel. `force` re-sends the state of every peer (after a start or a
  // configure, when BIRD's idea may differ from ours).
  void check_tunnels(bool force);
  void set_enabled(const std::string& protocol, bool enabled, bool force);

  vici::Client& client_;
  BgpOptions options_;
  BgpPlan plan_;
  std::optional<routing::BirdProcess> bird_;
  std::string bird_error_;  // why BIRD is not running or refused the config
  uint64_t bird_restarts_ = 0;
  std::map<std::string, bool> enabled_;  // protocol -> what we last told BIRD
  std::map<std::string, bool> tunnel_up_;  // connection -> last observed
  std::set<PolicyRule> rules_;
  std::set<IpAddress> added_addresses_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer check_timer_;
  unsigned ticks_ = 0;
};

}  // namespace ergw::gateway
