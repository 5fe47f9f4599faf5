// The checks of `ergw diagnose`, in the order of Azure's troubleshooting of a
// site-to-site connection over ExpressRoute private peering: the underlay to
// Azure's tunnel address (reachability, path MTU), IKE reachability, the
// proposal, the pre-shared key and identities, traffic selectors, PFS, DPD,
// BGP (session, routes), Azure's prefixes leaving by another path than the
// tunnel (unencrypted), MSS/MTU, and the clock.
//
// Pure: everything is read from the evidence gathered before (gather.h) - the
// status report ergwd publishes, the active configuration, the probes' and
// the kernel's answers - so each finding can be tested without a network.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/diagnose/clock_sync.h"
#include "gateway/diagnose/finding.h"
#include "gateway/diagnose/kernel_routes.h"
#include "gateway/diagnose/underlay_probe.h"

namespace ergw::diagnose {

// What was probed for one connection.
struct ConnectionEvidence {
  std::optional<UnderlayEvidence> underlay;  // nullopt: not probed (not IPv4, ...)
  std::vector<PortProbe> ike_ports;          // UDP 500 and 4500
  std::vector<RouteLookup> lookups;          // sample addresses of Azure's prefixes
};

struct Evidence {
  nlohmann::json status;  // ergwd's status report (GET /v1/status)
  nlohmann::json config;  // the active configuration document
  std::string only;       // one connection; empty: all
  std::map<std::string, ConnectionEvidence> connections;  // by name
  std::vector<KernelRoute> kernel_routes;
  std::string kernel_routes_error;
  ClockEvidence clock;
};

// Azure's prefixes behind a connection: its configured routes and what BIRD
// learned over its session (status), each once.
std::vector<IpPrefix> azure_prefixes(const nlohmann::json& status, const std::string& connection);
// The devices that carry the connection's tunnel traffic (its routes'
// devices, the data plane's tunnel devices).
std::vector<std::string> tunnel_devices(const nlohmann::json& status, const std::string& connection);
// The addresses whose route decides whether Azure's prefixes stay in the
// tunnel: the first host of each prefix, and the first host of every kernel
// route inside one that leaves by another device (ExpressRoute's, a static one).
std::vector<IpAddress> sample_addresses(const std::vector<IpPrefix>& prefixes, const std::vector<KernelRoute>& routes,
                                        const std::vector<std::string>& tunnel_devices);

std::vector<Finding> run_checks(const Evidence& evidence);

}  // namespace ergw::diagnose
