// StatePublisher: what ergwd observes, published for the management API.
// Every interval it gathers charon's SAs and BIRD's sessions the way
// `ergw status` does (StatusCollector: never waiting longer than the status
// deadline), and puts two immutable snapshots on the SnapshotBoard: the
// status report (GET /v1/status) and the typed Observation behind /metrics
// and the connections' read-only fields. The API's thread reads them without
// ever calling into the daemon, so a scrape costs ergwd's loop nothing.
//
// Traffic totals stay monotonic across rekeys and charon restarts
// (metrics::TrafficTotals, keyed privately on charon's SA ids). A gathering
// still running when the next one is due is not doubled.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "gateway/api/snapshot_board.h"
#include "gateway/ergwd/reconciler.h"
#include "gateway/ergwd/status_collector.h"
#include "gateway/metrics/traffic_totals.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

// The failures ergwd has seen per connection since it started: the last one
// stays after the tunnel recovers (the metric says when it last failed, and
// why), and each new one is counted by its reason.
struct FailureHistory {
  struct Last {
    std::string reason;
    std::string hint;
    int64_t at = 0;  // unix seconds
  };
  std::map<std::string, Last> last;
  std::map<std::string, std::map<std::string, uint64_t>> counts;  // connection -> reason -> failures
};

// The Observation of one gathering: `sas` as charon listed them, `bgp` the
// BgpController's report (nullopt without BGP). Updates `totals` and
// `failures`.
metrics::Observation build_observation(const Reconciler& reconciler, const std::vector<vici::IkeSaInfo>& sas,
                                       const std::optional<nlohmann::json>& bgp, metrics::TrafficTotals& totals,
                                       FailureHistory& failures, int64_t now_unix);

// The status report (`ergw status --json`, GET /v1/status) of one gathering.
nlohmann::json status_report(const Reconciler& reconciler, CollectedStatus collected);

class StatePublisher {
 public:
  using BgpSource = std::function<BgpController*()>;
  StatePublisher(boost::asio::any_io_executor executor, ergw::Clock& clock, StatusCollector& collector,
                 const Reconciler& reconciler, BgpSource bgp, api::SnapshotBoard& board,
                 std::chrono::milliseconds interval);
  ~StatePublisher();
  StatePublisher(const StatePublisher&) = delete;
  StatePublisher& operator=(const StatePublisher&) = delete;

  void start();
  // Gathers now (after an apply, a tunnel event): coalesced with a running one.
  void refresh();
  // charon went away: its SAs' counters are retired into the totals.
  void charon_gone() { totals_.retire_all(); }
  // charon's events: a CHILD SA going down carries its final counters
  // (child-updown), which are kept before the SA vanishes; then a refresh.
  void charon_event(const std::string& name, const vici::Message& message);

 private:
  void gather();
  void arm();

  boost::asio::any_io_executor executor_;
  ergw::Clock& clock_;
  StatusCollector& collector_;
  const Reconciler& reconciler_;
  BgpSource bgp_;
  api::SnapshotBoard& board_;
  std::chrono::milliseconds interval_;
  metrics::TrafficTotals totals_;
  FailureHistory failures_;
  std::unique_ptr<ergw::Timer> timer_;
  bool gathering_ = false;
  bool again_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
