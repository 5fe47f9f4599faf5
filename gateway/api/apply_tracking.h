// ApplyTracking: what became of one apply, followed after charon and BIRD
// took the revision until every tunnel it touched is up, failed (with
// charon's reason), waiting for Azure to dial it, or until a time limit. Its
// outcome is what a write answers and what the revision keeps.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "gateway/api/backend.h"
#include "gateway/metrics/observation.h"
#include "gateway/store/revision.h"

namespace ergw::api {

struct ServiceReply;

struct ApplyTracking {
  struct Connection {
    std::string name;
    std::string change;  // added, changed, removed, unchanged
    std::string state;   // connecting, up, failed, waiting_for_peer, removed, unchanged
    std::string reason;
    std::string hint;
  };
  struct Waiter {
    std::function<void(ServiceReply)> reply;
    std::chrono::steady_clock::time_point until;
  };

  // Starts following what `result` says the apply changed.
  ApplyTracking(store::RevisionId revision, std::optional<store::RevisionId> previous, int64_t started_at,
                const ApplyResult& result);

  // Moves each connection still connecting to up, failed or waiting for the
  // peer, from what ergwd observes now. An IKE SA established before the
  // apply began does not count: a changed connection restarts its IKE SA.
  void observe(const metrics::Observation& observation);
  bool settled() const;
  // Marks it done; still-connecting connections say why they stopped being followed.
  void finish(const std::string& because, int64_t now);

  nlohmann::json outcome() const;  // the revision's "apply"
  nlohmann::json body() const;     // a write's answer

  store::RevisionId revision = 0;
  std::optional<store::RevisionId> previous;
  int64_t started_at = 0;
  std::chrono::steady_clock::time_point give_up;
  std::string note;
  std::optional<int64_t> confirm_deadline;
  nlohmann::json warnings = nlohmann::json::array();
  std::vector<Connection> connections;
  std::vector<Waiter> waiters;
  bool done = false;
  std::string finished_because;  // settled, time limit, superseded by revision N, rolled back
  int64_t finished_at = 0;
  std::unique_ptr<boost::asio::steady_timer> timer;
};

}  // namespace ergw::api
