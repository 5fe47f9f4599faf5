// Reconciler: keeps what charon runs equal to what is configured.
//
// Desired state is a set of ConnectionPlans; observed state is what charon
// reports over vici (get-conns, list-sas) plus the routes ergwd installed. A
// pass computes the difference and applies only that:
//   1. unload connections charon has that are no longer configured;
//   2. load (PSK first) connections that are new or whose fingerprint changed,
//      and restart the IKE SA of a changed one so it takes the new settings;
//   3. initiate the connections ergw dials (connectionMode) that have no IKE SA;
//   4. install the routes into each tunnel, remove stale ones.
// A pass runs when the configuration changes, when charon (re)connects (it
// then holds nothing), shortly after a tunnel goes down, and periodically as a
// safety net. Passes never overlap; a request during a pass queues one more.
// State is keyed on connection names, never on SA unique ids.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/ergwd/connection_plan.h"
#include "gateway/ergwd/data_plane.h"
#include "vici/client.h"
#include "vici/sa_info.h"
#include "xfrm/netlink/routes.h"

namespace ergw::gateway {

struct ConnectionHealth {
  std::string last_error;       // "authentication failed", ...
  std::string last_error_hint;
  std::string last_error_detail;  // charon's own line
  std::chrono::system_clock::time_point last_error_at{};
  std::string last_change;      // "IKE up", "CHILD down", ...
  std::chrono::system_clock::time_point last_change_at{};
};

class Reconciler {
 public:
  Reconciler(boost::asio::io_context& io, vici::Client& client, DataPlaneChoice data_plane);

  // Replaces the desired state and reconciles.
  void set_desired(std::vector<ConnectionPlan> plans);
  const std::vector<ConnectionPlan>& desired() const { return plans_; }
  const DataPlaneChoice& data_plane() const { return data_plane_; }

  // Wire these to the vici client.
  void charon_connected();
  void charon_disconnected(const std::string& reason);
  void charon_event(const std::string& name, const vici::Message& message);

  // Runs a pass after `delay` (coalesced with any pass already scheduled).
  void request_pass(std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  void start_periodic(std::chrono::seconds interval);

  const std::map<std::string, ConnectionHealth>& health() const { return health_; }
  const std::set<std::pair<std::string, std::string>>& installed_routes() const { return routes_; }
  bool charon_up() const { return charon_up_; }
  uint64_t passes() const { return passes_; }

  // Drops every route ergwd installed (at exit).
  void remove_routes();

 private:
  using Step = std::function<void(std::function<void()> next)>;
  void run_pass();
  void finish_pass();
  void run_steps(std::shared_ptr<std::vector<Step>> steps, size_t index);
  void initiate_missing(const std::vector<vici::IkeSaInfo>& sas, std::function<void()> next);
  void sync_routes();
  void record_error(const std::string& connection, const std::string& message);
  const ConnectionPlan* find_plan(const std::string& name) const;

  vici::Client& client_;
  DataPlaneChoice data_plane_;
  std::vector<ConnectionPlan> plans_;
  std::map<std::string, std::string> loaded_;  // name -> fingerprint loaded into this charon
  std::map<std::string, ConnectionHealth> health_;
  std::set<std::pair<std::string, std::string>> routes_;  // (prefix, device) installed by us
  bool charon_up_ = false;
  bool running_ = false;
  bool again_ = false;
  bool pass_pending_ = false;  // pass_timer_ is armed
  uint64_t passes_ = 0;
  boost::asio::steady_timer pass_timer_;
  boost::asio::steady_timer periodic_timer_;
  std::chrono::seconds periodic_interval_{0};
};

}  // namespace ergw::gateway
