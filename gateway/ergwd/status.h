// The status of ergwd's tunnels: a snapshot taken at one moment (plain
// values, copied freely: the status reply, and next the metrics and the REST
// API, read the same one) and the JSON report `ergw status` prints. Per
// connection: the tunnel as the one model of a tunnel makes it (tunnel.h:
// state, IKE and CHILD SAs, which configured CHILDs are covered), its routes,
// and its health (last error with code, reason, likely cause and hint; failure
// and rekey counts), and on the fast path what it counted for the tunnel's
// SAs. No secret is ever part of it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/fastpath_status.h"
#include "gateway/ergwd/health.h"
#include "gateway/ergwd/pfs_probe.h"
#include "gateway/ergwd/reconciler.h"
#include "gateway/ergwd/tunnel.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

struct RouteSnapshot {
  std::string prefix;
  std::string device;
  bool installed = false;
  // This tunnel carries the prefix now (route_selection.h): false for the
  // standby instance of an active-active gateway with preferredInstance, or
  // for a tunnel that is down while another one carries the prefix.
  bool carrying = true;
};

struct ConnectionSnapshot {
  std::string name;
  std::string remote;            // Azure's tunnel address
  bool initiates = false;        // ergw dials
  bool azure_initiates = false;  // Azure dials (too)
  uint32_t if_id = 0;            // 0: policy-based
  std::string device;            // the tunnel device its routes use; "" when none
  Tunnel tunnel;
  std::vector<RouteSnapshot> routes;
  ConnectionHealth health;
  std::optional<PfsProbeStatus> pfs;  // the PFS probe's result (pfs_probe.h)
  std::optional<FastpathCounters> fastpath;  // what the fast path counted for its SAs
};

// What ergwd knows about the data plane beside the choice: what the
// configuration asks of it that it cannot do, whether charon loaded the right
// backend, and the fast path daemon (FastpathDaemon::report()) when it runs.
struct DataPlaneReport {
  std::vector<std::string> warnings;
  std::string charon_backend_problem;
  std::optional<nlohmann::json> fastpath;
  nlohmann::json tunnel_mtu = nlohmann::json::array();  // TunnelMtu::report()
  nlohmann::json mss_clamp = nlohmann::json::object();  // MssClamp::report()
};

struct StatusSnapshot {
  std::chrono::system_clock::time_point taken_at{};
  bool charon_connected = false;
  std::string charon_error;  // why the SAs could not be listed
  DataPlaneChoice data_plane;
  std::vector<std::string> data_plane_warnings;
  std::string charon_backend_problem;
  std::optional<nlohmann::json> fastpath;  // the daemon, without its raw STATUS document
  nlohmann::json tunnel_mtu = nlohmann::json::array();  // each tunnel device's MTU and why
  nlohmann::json mss_clamp = nlohmann::json::object();  // the TCP MSS clamp per connection (mss_clamp.h)
  std::vector<ConnectionSnapshot> connections;
  std::vector<UnattributedFailure> unattributed_failures;  // most recent first
  Reconciler::PassTimes reconciler;
};

// `sas`: what list-sas returned (empty with `sas_error` when it failed).
StatusSnapshot take_snapshot(const Reconciler& reconciler, const std::vector<vici::IkeSaInfo>& sas,
                             const std::string& sas_error, std::chrono::system_clock::time_point now,
                             const DataPlaneReport& data_plane = {});

nlohmann::json status_json(const StatusSnapshot& snapshot);

}  // namespace ergw::gateway
