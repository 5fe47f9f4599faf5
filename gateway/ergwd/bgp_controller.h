// BgpController: ergwd's side of BGP with Azure. It runs one BIRD (its own
// config file, control socket and pid file under --bird-dir) when at least one
// connection enables BGP, and keeps it in line with the configuration:
//   - plan_bgp() maps the compiler's BgpPeerIntents to routing::BgpPeers and
//     validates them with the routing rules; a refused plan changes nothing;
//   - apply() sets up the ip rules and the appliance's BGP address on lo, and
//     installs the config with `configure check` then `configure` (never a
//     restart), or starts BIRD on it;
//   - BIRD is supervised (routing::BirdDaemon): an exit restarts it with
//     backoff on the last configuration it accepted, and the controller then
//     re-applies the current one and the tunnel states;
//   - the routes BIRD selected from each session (`show route protocol`,
//     every route_refresh_interval and with every status) are handed to
//     on_learned_routes per connection: a data plane that tells tunnels
//     apart by route itself (the fast path) needs them, since the kernel
//     routes them all into its one TUN device;
//   - tunnel down -> `disable` the peer's protocol (its routes leave the
//     kernel table at once instead of after 180 s of hold time); tunnel up ->
//     `enable`.
// None of it waits in ergwd's event loop: BIRD is asked over the asynchronous
// client, and what BIRD has not confirmed is sent again on the next tick.
// report() answers within its deadline even when BIRD does not (stopped,
// hung): with the last state BIRD reported, its age, and that BIRD is not
// answering.
// Route layout (docs/bgp.md): the host route to Azure's BGP address goes into
// the tunnel device with the reconciler's static routes (add_bgp_host_routes);
// learned routes go to ergw's table; rule kUnderlayRulePriority sends Azure's
// tunnel addresses to main before rule kTableRulePriority consults ergw's
// table, so IKE/ESP never follows a learned prefix into the tunnel.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "gateway/ergwd/connection_plan.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/host_network.h"
#include "gateway/policy/strongswan_config.h"
#include "host/child_process.h"
#include "routing/bgp_peer.h"
#include "routing/bird_commands.h"
#include "routing/bird_daemon.h"
#include "vici/client.h"

namespace ergw::gateway {

struct BgpOptions {
  std::string bird_dir = "/run/ergw/bird";  // bird.conf, bird.ctl, bird.pid, bird.log
  std::string bird_binary = "/usr/sbin/bird";
  uint32_t kernel_table = 1000;
  uint32_t underlay_rule_priority = 1000;  // to <Azure tunnel address> lookup main
  uint32_t table_rule_priority = 1001;     // lookup <kernel_table>
  bool strict_expressroute = false;  // passed to the policy validator when loading
  // How often the controller re-sends what BIRD has not confirmed (the
  // configuration, enable/disable) and re-checks that BIRD runs.
  std::chrono::milliseconds supervise_interval{1000};
  // How often the tunnels are re-read from charon besides its events.
  std::chrono::milliseconds tunnel_check_interval{5000};
  // How often the learned routes are read from BIRD (on_learned_routes).
  std::chrono::milliseconds route_refresh_interval{2000};
  // BIRD's answer to one command; after it BIRD counts as not answering.
  std::chrono::milliseconds bird_command_timeout{5000};
  host::Backoff bird_restart_backoff;
};

struct BgpPeerPlan {
  routing::BgpPeer peer;
  std::string connection;             // the IKE connection whose tunnel carries it
  std::vector<std::string> children;  // its CHILD configs: the session runs while the tunnel is up (tunnel.h)
};

struct BgpPlan {
  std::vector<BgpPeerPlan> peers;  // empty: BGP off, no BIRD
  routing::BirdConfig config;
  std::string text;  // rendered BIRD config; holds passwords, never logged
  std::vector<IpAddress> underlay_addresses;  // Azure tunnel addresses of BGP connections
};

// Maps the compiler's intents to peers and checks what BIRD needs (Azure's
// BGP rules - reserved ASNs, its APIPA range, 4,000 exports, ExpressRoute
// overlap - ran when the configuration was loaded). The error lists every
// problem, one per line, each naming the connection.
Result<BgpPlan> plan_bgp(const policy::CompiledConfiguration& compiled, const std::vector<ConnectionPlan>& plans,
                         DataPlaneKind data_plane, const BgpOptions& options);

// The host route to Azure's BGP address goes into the tunnel with the
// connection's other routes: it never depends on BGP.
void add_bgp_host_routes(const BgpPlan& bgp, std::vector<ConnectionPlan>& plans);

// Per IKE connection, the prefixes BIRD selected (primary) from its BGP session.
using LearnedRoutes = std::map<std::string, std::set<IpPrefix>>;

// What the controller works with, passed in so tests can give it a fake BIRD
// (a fake launcher), a fake clock, a fake charon and no host changes.
struct BgpEnvironment {
  boost::asio::any_io_executor executor;
  ergw::Clock& clock;
  host::Launcher& launcher;
  HostNetwork& network;
  vici::Client& charon;
};

class BgpController {
 public:
  using Report = std::function<void(nlohmann::json)>;

  BgpController(BgpEnvironment environment, BgpOptions options);
  ~BgpController();  // stops BIRD; rules and addresses stay (ergwd restarts keep forwarding)
  BgpController(const BgpController&) = delete;
  BgpController& operator=(const BgpController&) = delete;

  // Makes BIRD, the rules and the addresses match `plan` (after a load that
  // passed validation).
  void apply(BgpPlan plan);
  // ike-updown / child-updown: a tunnel of ours went down -> disable its
  // session now; either way, re-check the tunnels soon.
  void tunnel_event(const std::string& name, const vici::Message& message);
  // The "bgp" object of `ergw status`, within `deadline` whatever BIRD does.
  // `done` runs on the executor, never inside report().
  void report(std::chrono::milliseconds deadline, Report done);
  // Called when the learned routes change (empty when BIRD stopped).
  void on_learned_routes(std::function<void(const LearnedRoutes&)> handler) { on_learned_ = std::move(handler); }

  // For tests and the log.
  const routing::BirdDaemon& bird() const { return bird_; }

 private:
  // What BIRD last told us, for the status report.
  struct Snapshot {
    std::optional<routing::DaemonStatus> daemon;
    std::vector<routing::ProtocolStatus> protocols;
    std::map<std::string, std::vector<routing::Route>> routes;  // protocol -> its routes
    // protocol -> its last error with the value that `show protocols` leaves
    // out and BIRD's log has ("BGP Error: Bad peer AS: 65516"), or BIRD's
    // own text when the log has no line for it.
    std::map<std::string, std::string> logged_errors;
    std::optional<ergw::Clock::TimePoint> taken_at;
    std::string error;  // why the last refresh failed; empty if it did not
  };
  struct Waiter;

  std::string path(const char* file) const { return options_.bird_dir + "/" + file; }
  void start_bird();
  void bird_running(pid_t pid);
  void bird_down(const std::string& why);
  void sync_host_network();
  void tick();
  void reconcile_config();
  // Lists the SAs and wants each peer's protocol enabled when its tunnel is up.
  void check_tunnels();
  void want(const BgpPeerPlan& peer, routing::ProtocolSwitch change);
  // Sends every protocol's wanted state that BIRD has not confirmed.
  void sync_sessions();
  void forget_confirmed_states();
  void refresh();
  // Fills `snapshot.logged_errors` from the tail of BIRD's log.
  void read_logged_errors(Snapshot& snapshot) const;
  void refresh_done(std::string error);
  void publish_learned(LearnedRoutes learned);
  // Whether the report carries BIRD's answer to this request's queries.
  enum class BirdAnswer { answered, not_answered };
  void answer(Waiter& waiter, BirdAnswer bird);
  nlohmann::json status_json(BirdAnswer bird) const;

  boost::asio::any_io_executor executor_;
  ergw::Clock& clock_;
  HostNetwork& network_;
  vici::Client& charon_;
  BgpOptions options_;
  BgpPlan plan_;
  routing::BirdDaemon bird_;
  std::string bird_error_;     // why BIRD is not running or refused the config
  std::string applied_text_;   // the configuration BIRD runs (accepted or started on)
  std::string refused_text_;   // the last configuration BIRD refused: not sent again
  bool config_in_flight_ = false;
  std::map<std::string, routing::ProtocolSwitch> wanted_;     // protocol -> what the tunnel asks for
  std::map<std::string, routing::ProtocolSwitch> confirmed_;  // protocol -> what BIRD confirmed
  std::map<std::string, routing::ProtocolSwitch> in_flight_;  // protocol -> sent, not answered yet
  std::string session_error_;  // the last failed enable/disable, logged once
  std::map<std::string, bool> tunnel_up_;  // connection -> last observed
  std::set<PolicyRule> rules_;
  std::set<IpAddress> added_addresses_;
  Snapshot snapshot_;
  LearnedRoutes learned_;
  std::function<void(const LearnedRoutes&)> on_learned_;
  bool refresh_in_flight_ = false;
  uint64_t refresh_generation_ = 0;
  std::vector<std::unique_ptr<Waiter>> waiters_;
  std::unique_ptr<Timer> tick_timer_;
  std::unique_ptr<Timer> check_timer_;
  ergw::Clock::TimePoint last_tunnel_check_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
