// The ergwd daemon: configuration in, reconciler running, control socket
// answering, signals handled (SIGHUP reloads, SIGTERM/SIGINT stop without
// touching the tunnels: restarting ergwd never drops a tunnel).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/clock.h"
#include "gateway/ergwd/bgp_controller.h"
#include "gateway/ergwd/charon_backend.h"
#include "gateway/ergwd/control_server.h"
#include "gateway/ergwd/fastpath_daemon.h"
#include "gateway/ergwd/host_network.h"
#include "gateway/ergwd/reconciler.h"
#include "gateway/ergwd/status_collector.h"
#include "gateway/ergwd/tunnel_routes.h"
#include "gateway/policy/azure_connection.h"
#include "host/child_process.h"
#include "vici/client.h"

namespace ergw::gateway {

struct DaemonOptions {
  std::string config_file;
  std::string control_socket = "/run/ergw/ergwd.sock";
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
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  // Loads the configuration (exit code 2 on errors), starts everything, runs
  // until SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  // At start: reads the file, chooses the data plane, applies. False (and
  // nothing started) when the file is refused.
  bool start_with_configuration();
  // SIGHUP or `reload`: a refused file leaves everything as it runs.
  bool reload_configuration();
  // Reads, validates and compiles the file, logging every diagnostic;
  // nullopt when it has errors (`consequence` says what happens then).
  std::optional<policy::ApplianceConfig> read_configuration(std::string_view consequence);
  // Plans connections and BGP and hands them over; false when BGP refuses
  // the plan (nothing changed then).
  bool apply_configuration(const policy::ApplianceConfig& config, const DataPlaneChoice& choice,
                           std::string_view consequence);
  // Probes the kernel, looks for the fast path, chooses as configured.
  DataPlaneChoice choose(policy::DataPlane configured) const;
  // Makes `choice` the data plane: the first at start, or a switch when a
  // reload changed dataPlane (the fast path started or stopped, routes moved
  // to the new devices; charon is restarted by charon_backend_).
  void use_data_plane(const DataPlaneChoice& choice);
  // The charon settings the data plane needs, which charon reads only when
  // it starts (plugins, the ergw-ipsec socket, libipsec's routing table).
  std::string data_plane_settings() const;
  void handle_request(const nlohmann::json& request, ControlServer::Reply reply);
  void wait_for_signals();
  // Writes the strongswan.conf fragment (atomically) when it changed and
  // asks charon to reload its settings.
  void write_charon_settings(const std::string& text);
  void reload_charon_settings();
  // Hands the fast path every route-based connection's routes, configured
  // and learned over BGP, each to its own if_id.
  void route_fastpath();

  DaemonOptions options_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::unique_ptr<ergw::Clock> clock_;
  std::unique_ptr<host::Launcher> launcher_;
  std::unique_ptr<HostNetwork> host_network_;
  std::unique_ptr<vici::Client> client_;
  std::unique_ptr<StatusCollector> status_;
  NetlinkTunnelRoutes tunnel_routes_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<BgpController> bgp_;
  std::string charon_settings_;
  uint64_t config_generation_ = 0;
  std::vector<std::string> data_plane_warnings_;
  std::unique_ptr<CharonBackend> charon_backend_;
  policy::DataPlane configured_data_plane_ = policy::DataPlane::automatic;
  bool data_plane_started_ = false;
  std::unique_ptr<FastpathDaemon> retiring_fastpath_;  // being stopped after a switch
  LearnedRoutes learned_routes_;  // from BIRD, per connection
  std::unique_ptr<FastpathDaemon> fastpath_;  // last: it uses the clock and the launcher
};

}  // namespace ergw::gateway
