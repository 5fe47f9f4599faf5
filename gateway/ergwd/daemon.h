// The ergwd daemon: configuration in, reconciler running, control socket
// answering, signals handled (SIGHUP reloads, SIGTERM/SIGINT stop without
// touching the tunnels: restarting ergwd never drops a tunnel).
//
// The configuration comes from the management plane's store: every change
// (API, file + SIGHUP, rollback, a missed confirmation) is validated and
// stored there, then handed to the daemon through api::Backend - check() and
// apply(), the one path by which a configuration reaches charon and BIRD.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/clock.h"
#include "gateway/api/backend.h"
#include "gateway/ergwd/bgp_controller.h"
#include "gateway/ergwd/charon_backend.h"
#include "gateway/ergwd/control_server.h"
#include "gateway/ergwd/fastpath_daemon.h"
#include "gateway/ergwd/firewall_peers.h"
#include "gateway/ergwd/host_network.h"
#include "gateway/ergwd/management_plane.h"
#include "gateway/ergwd/mss_clamp.h"
#include "gateway/ergwd/reconciler.h"
#include "gateway/ergwd/service_manager.h"
#include "gateway/ergwd/state_publisher.h"
#include "gateway/ergwd/status_collector.h"
#include "gateway/ergwd/tunnel_mtu.h"
#include "gateway/ergwd/tunnel_routes.h"
#include "gateway/policy/azure_connection.h"
#include "host/child_process.h"
#include "vici/client.h"

namespace ergw::gateway {

struct DaemonOptions {
  std::string config_file;  // the file workflow's file; empty: the store only
  // The line-JSON control socket (`status`, `reload`) the lab's tests use;
  // empty: none. `ergw` speaks the API on management.api_socket.
  std::string control_socket;
  std::string vici_socket = "/var/run/charon.vici";
  // Where to write the strongswan.conf fragment with the charon-wide settings
  // the connections need (retransmission sized for DPD); empty: do not.
  std::string charon_settings_file;
  std::chrono::seconds repair_interval{10};
  // How long `ergw status` waits for charon and for BIRD; a daemon that has
  // not answered by then is reported as not answering.
  std::chrono::milliseconds status_deadline{1000};
  // How charon is restarted when it must load other plugins (charon_backend.h).
  std::string charon_restart_command = "systemctl restart strongswan.service";
  BgpOptions bgp;  // BIRD runs only when a connection enables BGP
  FastpathOptions fastpath;  // ergw-fastpath runs only on the fastpath data plane
  ManagementOptions management;
  // nft for the TCP MSS clamp (mss_clamp.h); empty: no clamp, as when the
  // appliance image's own ruleset clamps.
  std::string nft = "nft";
  // The nftables sets of IKE peers ergwd fills (firewall_peers.h).
  FirewallOptions firewall;
  // How often the state behind /v1/status and /metrics is gathered.
  std::chrono::milliseconds publish_interval{1000};
};

class Daemon : private api::Backend {
 public:
  explicit Daemon(DaemonOptions options);
  // Opens the store, applies its active revision (exit code 2 when the
  // first configuration is refused), starts everything, runs until
  // SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  // At start: opens the store and applies its active revision (the file
  // imported first when it was edited while ergwd was stopped). 0 when
  // running, else the exit code (1: the store cannot be opened, 2: the first
  // configuration is refused; nothing started then).
  int start_with_configuration();
  // SIGHUP or `reload`: the file becomes a revision through the same
  // validation as the API; a refused file leaves everything as it runs.
  // `done(accepted)` once applied or refused.
  void reload_configuration(std::function<void(bool accepted)> done);
  // api::Backend: the one way a configuration reaches charon and BIRD (the
  // API, the file, a rollback, a missed confirmation, the start).
  void check(const policy::ApplianceConfig& config, Diagnostics& diagnostics) override;
  void apply(const policy::ApplianceConfig& config, std::function<void(api::ApplyResult)> done) override;
  // The data plane `config` gets: the running one while its dataPlane is
  // unchanged, else chosen again (the kernel and the installation looked at
  // again; `log` says what was found).
  DataPlaneChoice data_plane_for(const policy::ApplianceConfig& config, bool log) const;
  // Probes the kernel, looks for the fast path, chooses as configured.
  DataPlaneChoice choose(policy::DataPlane configured, bool log) const;
  // Makes the reconciler with the first data plane chosen.
  void ensure_reconciler(const DataPlaneChoice& choice);
  // Plans connections and BGP and hands them over; an error (nothing
  // changed then) when BGP refuses the plan.
  Status apply_configuration(const policy::ApplianceConfig& config);
  // Makes `choice` the data plane: the first at start, or a switch when a
  // change moved dataPlane (the fast path started or stopped, routes moved
  // to the new devices; charon is restarted by charon_backend_).
  void use_data_plane(const DataPlaneChoice& choice);
  // The charon settings the data plane needs, which charon reads only when
  // it starts (plugins, the ergw-ipsec socket, libipsec's routing table).
  std::string data_plane_settings() const;
  // What the status reports about the data plane beside the choice.
  DataPlaneReport data_plane_report() const;
  void handle_request(const nlohmann::json& request, ControlServer::Reply reply);
  void wait_for_signals();
  // Tells systemd ergwd is ready once the first pass has finished (its
  // sockets listen by then), and starts the watchdog pings.
  void report_readiness();
  // Writes the strongswan.conf fragment (atomically) when it changed and
  // asks charon to reload its settings.
  void write_charon_settings(const std::string& text);
  void reload_charon_settings();
  // Hands the fast path every route-based connection's routes, configured
  // and learned over BGP, each to its own if_id.
  void route_fastpath();
  // Installs the TCP MSS clamp the connections and tunnel MTUs now ask for.
  void update_mss_clamp();

  DaemonOptions options_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::unique_ptr<ergw::Clock> clock_;
  std::unique_ptr<ServiceManager> service_manager_;
  std::unique_ptr<host::Launcher> launcher_;
  std::unique_ptr<HostNetwork> host_network_;
  std::unique_ptr<FirewallPeers> firewall_;
  std::unique_ptr<vici::Client> client_;
  std::unique_ptr<StatusCollector> status_;
  NetlinkTunnelRoutes tunnel_routes_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<BgpController> bgp_;
  std::unique_ptr<ManagementPlane> management_;
  std::unique_ptr<StatePublisher> publisher_;
  std::string charon_settings_;
  uint64_t config_generation_ = 0;
  std::vector<std::string> data_plane_warnings_;
  std::unique_ptr<CharonBackend> charon_backend_;
  std::unique_ptr<LinkMtu> link_mtu_;
  std::unique_ptr<TunnelMtu> tunnel_mtu_;  // the tunnel devices' MTU (tunnel_mtu.h)
  std::unique_ptr<MssClamp> mss_clamp_;    // TCP MSS of the tunnels' forwarded TCP (mss_clamp.h); null: --nft ''
  policy::DataPlane configured_data_plane_ = policy::DataPlane::automatic;
  bool data_plane_started_ = false;
  std::unique_ptr<FastpathDaemon> retiring_fastpath_;  // being stopped after a switch
  LearnedRoutes learned_routes_;  // from BIRD, per connection
  std::unique_ptr<FastpathDaemon> fastpath_;  // last: it uses the clock and the launcher
};

}  // namespace ergw::gateway
