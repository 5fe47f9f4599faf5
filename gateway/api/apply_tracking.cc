#include "gateway/api/apply_tracking.h"

#include "gateway/api/problem.h"

namespace ergw::api {

ApplyTracking::ApplyTracking(store::RevisionId revision_id, std::optional<store::RevisionId> previous_id,
                             int64_t started, const ApplyResult& result)
    : revision(revision_id), previous(previous_id), started_at(started), note(result.note) {
  for (const auto& c : result.connections) {
    Connection t{c.name, c.change, "connecting", "", ""};
    if (c.change == "removed") t.state = "removed";
    if (c.change == "unchanged") t.state = "unchanged";
    connections.push_back(std::move(t));
  }
}

void ApplyTracking::observe(const metrics::Observation& observation) {
  for (auto& c : connections) {
    if (c.state != "connecting") continue;
    const metrics::ConnectionObservation* seen = nullptr;
    for (const auto& o : observation.connections) {
      if (o.name == c.name) seen = &o;
    }
    if (seen == nullptr) continue;
    if (seen->up && seen->established_at && *seen->established_at >= started_at - 1) {
      c.state = "up";
    } else if (!seen->last_error.empty() && seen->last_error_at && *seen->last_error_at >= started_at) {
      c.state = "failed";
      c.reason = seen->last_error_reason.empty() ? seen->last_error : seen->last_error_reason;
      c.hint = seen->last_error_hint;
    } else if (!seen->dials && !seen->up) {
      c.state = "waiting_for_peer";
      c.reason = "Azure dials this connection (connectionMode)";
    }
  }
}

bool ApplyTracking::settled() const {
  for (const auto& c : connections) {
    if (c.state == "connecting") return false;
  }
  return true;
}

void ApplyTracking::finish(const std::string& because, int64_t now) {
  if (because == "time limit") {
    for (auto& c : connections) {
      if (c.state == "connecting") c.reason = "still connecting when ergwd stopped following it";
    }
  }
  done = true;
  finished_because = because;
  finished_at = now;
  if (timer) timer->cancel();
}

nlohmann::json ApplyTracking::outcome() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : connections) {
    nlohmann::json j = {{"name", c.name}, {"change", c.change}, {"state", c.state}};
    if (!c.reason.empty()) j["reason"] = c.reason;
    if (!c.hint.empty()) j["hint"] = c.hint;
    list.push_back(std::move(j));
  }
  nlohmann::json j = {{"state", done ? "done" : "running"}, {"started", iso_time(started_at)},
                      {"connections", std::move(list)}};
  if (done) {
    j["finished"] = iso_time(finished_at);
    j["finished_because"] = finished_because;
  }
  if (!note.empty()) j["note"] = note;
  return j;
}

nlohmann::json ApplyTracking::body() const {
  nlohmann::json j = {{"result", "applied"}, {"revision", revision}, {"apply", outcome()}, {"warnings", warnings}};
  j["previous"] = previous ? nlohmann::json(*previous) : nlohmann::json(nullptr);
  if (confirm_deadline) {
    j["confirm"] = {
        {"deadline", iso_time(*confirm_deadline)}, {"deadline_unix", *confirm_deadline}, {"url", "/v1/config/confirm"}};
  }
  return j;
}

}  // namespace ergw::api
