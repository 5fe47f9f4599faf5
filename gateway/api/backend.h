// Backend: what the management plane needs of the daemon that runs the
// tunnels, and nothing more. ergwd implements it over its reconciler and BGP
// controller; tests use a fake. Called on the daemon's executor only.
//
// The backend also publishes what it observes (status, tunnels, BGP) to the
// SnapshotBoard on its own, as things change: readers never call into it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gateway/policy/azure_connection.h"
#include "common/diagnostics.h"

namespace ergw::api {

struct ConnectionApplyResult {
  std::string name;
  std::string change;  // added, changed, removed, unchanged
  std::string error;   // why charon refused it; empty when taken
};

struct ApplyResult {
  // False when charon or BIRD refused part of the configuration: the
  // management plane then restores the previous revision.
  bool accepted = true;
  std::string error;  // the daemon-wide reason (BIRD refused its configuration, ...)
  // Said when the configuration is stored but waits for a daemon (charon not
  // connected): it is applied as soon as the daemon is back.
  std::string note;
  std::vector<ConnectionApplyResult> connections;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Checks only the running daemon can make (BGP planned against its data
  // plane and options) on a configuration that passed the rule book. Adds its
  // findings to `diagnostics`; changes nothing.
  virtual void check(const policy::ApplianceConfig& config, Diagnostics& diagnostics) = 0;

  // Makes charon, BIRD and the routes follow `config`, which passed check().
  // An empty configuration (no connections) stops everything ergwd runs.
  // `done` is called once, when charon and BIRD have taken or refused it: not
  // when the tunnels are up, which the observation shows.
  virtual void apply(const policy::ApplianceConfig& config, std::function<void(ApplyResult)> done) = 0;
};

}  // namespace ergw::api
