// SnapshotBoard: where the daemon thread publishes what it knows, for the API
// thread to read without waiting for the daemon: the status report, the typed
// observation behind the metrics, the configuration's state, readiness. Each
// is an immutable snapshot swapped under a mutex; a reader copies a pointer.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/histogram.h>

#include "gateway/metrics/observation.h"

namespace ergw::api {

class SnapshotBoard {
 public:
  SnapshotBoard();

  // The daemon's status report (what `ergw status --json` prints).
  void publish_status(nlohmann::json status);
  std::shared_ptr<const nlohmann::json> status() const;

  void publish_observation(metrics::Observation observation);
  std::shared_ptr<const metrics::Observation> observation() const;

  // Set by the management service.
  void publish_config(metrics::ConfigObservation config);
  metrics::ConfigObservation config() const;

  // Why the appliance is not ready to carry traffic (empty: ready).
  void publish_not_ready(std::vector<std::string> reasons);
  std::vector<std::string> not_ready() const;

  void count_auth_failure() { auth_failures_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t auth_failures() const { return auth_failures_.load(std::memory_order_relaxed); }

  // Observed by the daemon, rendered by /metrics (prometheus::Histogram is
  // thread-safe).
  prometheus::Histogram& reconcile_duration() { return *reconcile_duration_; }
  const prometheus::Histogram& reconcile_duration() const { return *reconcile_duration_; }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const nlohmann::json> status_;
  std::shared_ptr<const metrics::Observation> observation_;
  metrics::ConfigObservation config_;
  std::vector<std::string> not_ready_;
  std::atomic<uint64_t> auth_failures_{0};
  std::shared_ptr<prometheus::Histogram> reconcile_duration_;
};

}  // namespace ergw::api
