#include "gateway/api/snapshot_board.h"

#include "gateway/metrics/exposition.h"

namespace ergw::api {

SnapshotBoard::SnapshotBoard()
    : status_(std::make_shared<const nlohmann::json>(nlohmann::json::object())),
      observation_(std::make_shared<const metrics::Observation>()),
      not_ready_{"starting"},
      reconcile_duration_(metrics::make_reconcile_histogram()) {}

void SnapshotBoard::publish_status(nlohmann::json status) {
  auto snapshot = std::make_shared<const nlohmann::json>(std::move(status));
  std::lock_guard lock(mutex_);
  status_ = std::move(snapshot);
}

std::shared_ptr<const nlohmann::json> SnapshotBoard::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void SnapshotBoard::publish_observation(metrics::Observation observation) {
  auto snapshot = std::make_shared<const metrics::Observation>(std::move(observation));
  std::lock_guard lock(mutex_);
  observation_ = std::move(snapshot);
}

std::shared_ptr<const metrics::Observation> SnapshotBoard::observation() const {
  std::lock_guard lock(mutex_);
  return observation_;
}

void SnapshotBoard::publish_config(metrics::ConfigObservation config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

metrics::ConfigObservation SnapshotBoard::config() const {
  std::lock_guard lock(mutex_);
  auto out = config_;
  out.auth_failures = auth_failures();
  return out;
}

void SnapshotBoard::publish_not_ready(std::vector<std::string> reasons) {
  std::lock_guard lock(mutex_);
  not_ready_ = std::move(reasons);
}

std::vector<std::string> SnapshotBoard::not_ready() const {
  std::lock_guard lock(mutex_);
  return not_ready_;
}

}  // namespace ergw::api
