// The fast path's part of the status:
//  - the fast path's counters of one tunnel (fastpath_counters): packets and
//    bytes each way, which never fall across rekeys, and every drop by its
//    named reason. A fast-path connection (one reqid) belongs to the ergwd
//    connection whose CHILD SAs carry its SPIs (in any of its IKE SAs);
//  - the fast path daemon's object at the top of the report
//    (fastpath_daemon_json: state, pid, restarts, last exit, SAs, policies
//    and routes held, drops that belong to no connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/ergwd/tunnel.h"

namespace ergw::gateway {

struct FastpathCounters {
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_out = 0;
  std::map<std::string, uint64_t> drops;  // every reason the fast path names, zeros included
  std::vector<uint64_t> reqids;           // the fast path's connections counted here
};

// The fast path's connections by the SPIs of their SAs, read once from its
// STATUS answer (FastpathDaemon::report()'s "status") for every tunnel of a
// snapshot: with 100 tunnels, reading the document again for each one made a
// status cost ergwd 90 ms of CPU, most of it copying JSON.
class FastpathCounterIndex {
 public:
  explicit FastpathCounterIndex(const nlohmann::json& document);
  // nullopt when no fast-path connection carries the tunnel's SPIs.
  std::optional<FastpathCounters> counters(const Tunnel& tunnel) const;

 private:
  std::vector<const nlohmann::json*> connections_;  // into the document, which outlives the index
  // SPI -> index into connections_; a multimap, since the SPI a peer chose for
  // one connection may equal one we chose for another.
  std::multimap<uint32_t, size_t> by_spi_;
};

// The same for one tunnel.
std::optional<FastpathCounters> fastpath_counters(const Tunnel& tunnel, const nlohmann::json& document);

nlohmann::json fastpath_counters_json(const FastpathCounters& counters);

// `report` is FastpathDaemon::report(): the daemon without the raw document,
// plus the document's totals.
nlohmann::json fastpath_daemon_json(const nlohmann::json& report);

}  // namespace ergw::gateway
