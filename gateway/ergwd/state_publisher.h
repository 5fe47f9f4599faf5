// StatePublisher: what ergwd observes, published for the management API.
// Every interval it gathers charon's SAs and BIRD's sessions the way
// `ergw status` does (StatusCollector: never waiting longer than the status
// deadline), takes the one status snapshot (take_snapshot) and puts two
// immutable views of it on the SnapshotBoard: the status report (GET
// /v1/status, status_json) and the typed Observation behind /metrics and the
// connections' read-only fields. The API's thread reads them without ever
// calling into the daemon, so a scrape costs ergwd's loop nothing.
//
// Traffic totals stay monotonic across rekeys and charon restarts
// (metrics::TrafficTotals, keyed privately on charon's SA ids): a CHILD SA's
// final counters are taken from the events that end it (child-rekey's old SA,
// child-updown and ike-updown going down) before it vanishes. Failures and
// rekeys are counted by the HealthTracker as charon's events arrive, never
// inferred from samples. A gathering still running when the next one is due
// is not doubled.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "gateway/api/snapshot_board.h"
#include "gateway/ergwd/reconciler.h"
#include "gateway/ergwd/status.h"
#include "gateway/ergwd/status_collector.h"
#include "gateway/metrics/traffic_totals.h"
#include "vici/message.h"

namespace ergw::gateway {

// The status report (`ergw status --json`, GET /v1/status): status_json of
// the snapshot with BIRD's sessions and the daemons that did not answer.
nlohmann::json status_report(const StatusSnapshot& snapshot, CollectedStatus collected);

// The Observation of one gathering, from the snapshot and the report made of
// it (BGP sessions; the data plane's per-connection drops, where it reports
// them). Samples the snapshot's SAs into `totals` when charon answered.
metrics::Observation build_observation(const StatusSnapshot& snapshot, const nlohmann::json& report,
                                       metrics::TrafficTotals& totals);

class StatePublisher {
 public:
  using BgpSource = std::function<BgpController*()>;
  // What the daemon knows of the data plane beside the choice (on the fast
  // path: its per-connection counters and drops), asked at each gathering.
  using DataPlaneSource = std::function<DataPlaneReport()>;
  StatePublisher(boost::asio::any_io_executor executor, ergw::Clock& clock, StatusCollector& collector,
                 const Reconciler& reconciler, BgpSource bgp, DataPlaneSource data_plane, api::SnapshotBoard& board,
                 std::chrono::milliseconds interval);
  ~StatePublisher();
  StatePublisher(const StatePublisher&) = delete;
  StatePublisher& operator=(const StatePublisher&) = delete;

  void start();
  // Gathers now (after an apply, a tunnel event): coalesced with a running one.
  void refresh();
  // charon went away: its SAs' counters are retired into the totals.
  void charon_gone() { totals_.retire_all(); }
  // charon's events: the final counters of a CHILD SA that ends (rekeyed or
  // going down) are kept before it vanishes; then a refresh.
  void charon_event(const std::string& name, const vici::Message& message);

 private:
  void gather();
  void arm();

  boost::asio::any_io_executor executor_;
  ergw::Clock& clock_;
  StatusCollector& collector_;
  const Reconciler& reconciler_;
  BgpSource bgp_;
  DataPlaneSource data_plane_;
  api::SnapshotBoard& board_;
  std::chrono::milliseconds interval_;
  metrics::TrafficTotals totals_;
  std::unique_ptr<ergw::Timer> timer_;
  bool gathering_ = false;
  bool again_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::gateway
