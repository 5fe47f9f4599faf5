// TrafficTotals: per-connection byte, packet and drop counters that never go
// backwards, although every SA's own counters start at zero again after each
// rekey and all of them vanish when charon restarts.
//
// Each sample lists the SAs charon (or the data plane) has now, each under an
// identity private to this class (charon's unique ids; they never leave it,
// as labels or otherwise). A connection's total is what its retired SAs had
// when last seen plus what its live SAs have now. An SA that disappears is
// retired with its last counters; a rekey or down event carrying an SA's
// final counters updates them first, so only the traffic between the last
// sample and the SA's end can be lost when no event says it. An SA whose
// counters fall (charon restarted and reused its id) counts as a new SA.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gateway/metrics/observation.h"

namespace ergw::metrics {

struct SaSample {
  std::string connection;
  // charon's CHILD SA unique id: the SA's identity. Not the IKE SA's id: an
  // IKE rekey moves the CHILD SAs, counters and ids unchanged, to the new IKE
  // SA, and they must not count twice.
  uint64_t child_id = 0;
  TrafficCounters counters;
};

class TrafficTotals {
 public:
  // Every SA there is now (one list-sas). Connections not listed keep their totals.
  void sample(const std::vector<SaSample>& sas);
  // An SA's final counters (child-rekey's old SA, child-updown going down).
  void final_counters(const SaSample& sa);
  // charon went away: every SA it had is retired.
  void retire_all();
  // The drops the data plane counts per connection (the fast path: cumulative
  // across rekeys, but from zero again when its connection is made anew).
  // A fall starts a new count on top of the last; a connection the data plane
  // does not report this time keeps its totals.
  void data_plane_drops(const std::string& connection, const std::map<DropReason, uint64_t>& drops);
  // The connection left the configuration: its series end.
  void forget(const std::string& connection);

  TrafficCounters totals(const std::string& connection) const;
  std::vector<std::string> connections() const;

 private:
  using Key = std::pair<std::string, uint64_t>;  // connection, CHILD SA id
  void retire(const Key& key);
  void update(const Key& key, const TrafficCounters& counters);

  std::map<Key, TrafficCounters> live_;
  std::map<std::string, TrafficCounters> retired_;
  struct DropCounts {
    std::map<DropReason, uint64_t> retired;  // before the data plane's counts fell
    std::map<DropReason, uint64_t> last;     // as the data plane reported them last
  };
  std::map<std::string, DropCounts> drops_;
};

}  // namespace ergw::metrics
