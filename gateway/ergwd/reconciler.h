// Reconciler: keeps what charon runs equal to what is configured.
//
// Desired state is a set of ConnectionPlans; observed state is what charon
// reports over vici (get-conns, list-sas) plus the routes ergwd installed. A
// pass computes the difference and applies only that, in named steps:
//   read_charon_connections  get-conns: what charon holds now;
//   unload_unconfigured      unload what is no longer configured;
//   load_new_and_changed     load the PSK, then the connection, of every plan
//                            that is new or whose fingerprint changed; a
//                            changed one takes the new settings
//                            make-before-break where it can (hitless_change.h:
//                            a new IKE SA, or a reauthentication, before the
//                            old IKE SA goes), else by a restart. A connection
//                            counts as applied only when charon took both: a
//                            refusal (or charon going away) leaves it to the
//                            next pass;
//   dial_missing             initiate what ergw dials and is missing: the
//                            first CHILD when the connection has no IKE SA,
//                            every CHILD without a CHILD SA once one is
//                            established (one per policy-based prefix pair);
//   install_routes           routes into each tunnel, stale ones removed.
// Beside the passes, the PFS probe (pfs_probe.h) rekeys each new tunnel's
// CHILD SA once, from charon's events.
// Routes follow the tunnels' state (route_selection.h): a prefix goes into the
// tunnels that are up (both of an active-active gateway: ECMP; or the
// preferred instance's), and moves at once when a tunnel goes down (the
// down event) or comes up (charon's SA list, read right after the up event
// and at every pass).
// A pass runs when the configuration changes, when charon (re)connects (it
// then holds nothing), shortly after a tunnel goes down, and periodically as a
// safety net. Passes never overlap; a request during a pass queues one more.
// State is keyed on connection names, never on SA unique ids.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gateway/ergwd/connection_plan.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/health.h"
#include "gateway/ergwd/hitless_change.h"
#include "gateway/ergwd/pfs_probe.h"
#include "gateway/ergwd/tunnel_routes.h"
#include "vici/client.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

struct ReconcilerOptions {
  // After a tunnel went down, the pass that re-dials it (when ergw dials)
  // waits this long: charon's own dpd/close actions usually get there first.
  std::chrono::milliseconds redial_delay{2000};
};

class Reconciler {
 public:
  // `clock` schedules the passes and stamps the health records.
  Reconciler(Clock& clock, vici::Client& client, DataPlaneChoice data_plane, TunnelRoutes& routes,
             ReconcilerOptions options = {});

  // Replaces the desired state and reconciles.
  void set_desired(std::vector<ConnectionPlan> plans);
  const std::vector<ConnectionPlan>& desired() const { return plans_; }
  const DataPlaneChoice& data_plane() const { return data_plane_; }
  // The data plane switched (a reload changed dataPlane): the next pass
  // routes into the new data plane's devices and removes the old routes.
  void set_data_plane(DataPlaneChoice data_plane);

  // Wire these to the vici client.
  void charon_connected();
  void charon_disconnected(const std::string& reason);
  void charon_event(const std::string& name, const vici::Message& message);
  // Whether `message` is the down event of an old IKE SA (or of its CHILD
  // SAs), or of old CHILD SAs, that a hitless change deletes once the new one
  // carries the tunnel: then nothing went down (charon_event ignores it; the
  // BGP session stays).
  bool retired_by_change(const std::string& name, const vici::Message& message) const;

  // Runs a pass after `delay` (coalesced with any pass already scheduled).
  void request_pass(std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  void start_periodic(std::chrono::seconds interval);
  // Calls `done` when the first pass that starts after this call has
  // finished (charon has taken or refused what was desired then). Not called
  // while charon is away: the caller checks charon_up() first.
  void after_next_pass(std::function<void()> done);
  // Why charon refused the desired configuration of `name` in the last pass
  // (its PSK or the connection was refused); nullopt when charon runs it.
  std::optional<std::string> refusal(const std::string& name) const;
  // Told how long each pass took (the reconcile duration histogram).
  void set_pass_observer(std::function<void(std::chrono::nanoseconds)> observer) { pass_observer_ = std::move(observer); }

  const HealthTracker& health() const { return health_; }
  // Each connection's PFS probe: a CHILD rekey right after the tunnel comes up.
  const PfsProbe& pfs_probe() const { return pfs_probe_; }
  // (prefix, device) of every route ergwd installed (a multipath route once
  // per device).
  std::set<std::pair<std::string, std::string>> installed_routes() const;
  // The connections whose tunnel is up, as last seen.
  const std::set<std::string>& tunnels_up() const { return tunnels_up_; }
  // Called when the tunnels up change (the fast path's routes follow them).
  void on_tunnels_changed(std::function<void()> handler) { on_tunnels_changed_ = std::move(handler); }
  bool charon_up() const { return charon_up_; }
  // Completed passes, and how long they took from the first vici request to
  // the last answer (the cost of a pass grows with the connections; status
  // reports it).
  struct PassTimes {
    uint64_t passes = 0;
    std::chrono::microseconds last{0};
    std::chrono::microseconds longest{0};
  };
  uint64_t passes() const { return pass_times_.passes; }
  const PassTimes& pass_times() const { return pass_times_; }
  // The fingerprint charon holds for each connection ergwd loaded into it.
  const std::map<std::string, std::string>& loaded() const { return loaded_; }
  // Changes being brought in make-before-break (hitless_change.h), by connection.
  const std::map<std::string, HitlessChange>& changes_in_progress() const { return changes_; }

  // Drops every route ergwd installed (at exit).
  void remove_routes();

 private:
  // What one pass learns as it goes.
  struct Pass {
    std::vector<std::string> charon_connections;  // get-conns
  };
  using PassPtr = std::shared_ptr<Pass>;
  using Done = std::function<void()>;
  using Step = void (Reconciler::*)(const PassPtr&, Done);

  void run_pass();
  void run_step(const PassPtr& pass, size_t index);
  void finish_pass();

  // The steps, in the order run_pass() runs them.
  void read_charon_connections(const PassPtr& pass, Done done);
  void unload_unconfigured(const PassPtr& pass, Done done);
  void load_new_and_changed(const PassPtr& pass, Done done);
  void dial_missing(const PassPtr& pass, Done done);
  void install_routes(const PassPtr& pass, Done done);

  // PSK first, then the connection; `done` either way. `change`: how a
  // connection charon held in another version takes the new one (none for a
  // first load).
  void load_connection(const ConnectionPlan& plan, ChangeDecision change, Done done);
  void initiate(const ConnectionPlan& plan, const std::string& child);
  // A changed connection, loaded: starts bringing its change in.
  void apply_change(const std::string& name, const ChangeDecision& change);
  // Moves every change in progress on, from charon's SA list; reads the list
  // again shortly while any is left.
  void advance_changes(const std::vector<vici::IkeSaInfo>& sas);
  void check_changes();
  // One IKE SA or CHILD SA of `name`, by its unique id; not waited for.
  enum class SaKind { ike, child };
  void terminate_sa(const std::string& name, SaKind kind, uint64_t id);
  void retire(uint64_t ike_id);
  void retire_child(uint64_t child_id);
  // new_child_sas is done: the old CHILD SAs are deleted (their down events
  // are no tunnel going down).
  void finish_child_change(const std::string& name, const ChangeNext& next);
  // charon said no: the connection's error, tried again at the next pass.
  // charon went away: nobody's error (everything is applied again when it is
  // back), only logged.
  void note_failure(const std::string& connection, const Error& error, TunnelFailure refusal,
                    std::string_view doing);
  void sync_routes();
  // Reads charon's SAs to confirm which tunnels are up.
  void check_tunnels();
  void set_tunnels_up(std::set<std::string> up);
  // Takes what a down event names (an IKE SA, or a CHILD SA of one) out of
  // last_sas_; returns whether the connection is still up without it.
  bool still_up_after(const std::string& event_name, const vici::UpDownEvent& event);
  const ConnectionPlan* find_plan(const std::string& name) const;

  Clock& clock_;
  vici::Client& client_;
  DataPlaneChoice data_plane_;
  TunnelRoutes& tunnel_routes_;
  ReconcilerOptions options_;
  std::vector<ConnectionPlan> plans_;
  std::map<std::string, std::string> loaded_;  // name -> fingerprint loaded into this charon
  std::map<std::string, ConnectionPlan> loaded_plans_;  // name -> the plan loaded into this charon
  std::map<std::string, HitlessChange> changes_;        // changes on their way in, by connection
  std::set<uint64_t> retiring_;  // old IKE SAs a finished change deletes (or charon, reauthenticating), until down
  std::set<uint64_t> retiring_children_;  // old CHILD SAs a finished CHILD change deletes, until down
  HealthTracker health_;
  PfsProbe pfs_probe_;
  std::map<std::string, std::vector<std::string>> routes_;  // prefix -> devices, installed by us
  std::set<std::string> tunnels_up_;
  // charon's SAs as last listed, less those an event has said went down
  // since: whether a connection is still carried when one of its SAs goes.
  std::vector<vici::IkeSaInfo> last_sas_;
  std::function<void()> on_tunnels_changed_;
  bool charon_up_ = false;
  bool running_ = false;
  bool again_ = false;
  PassTimes pass_times_;
  std::vector<std::function<void()>> before_pass_;  // wait for the next pass to start
  std::vector<std::function<void()>> in_pass_;      // wait for the running pass to end
  std::function<void(std::chrono::nanoseconds)> pass_observer_;
  Clock::TimePoint pass_started_{};
  std::unique_ptr<Timer> pass_timer_;
  Clock::TimePoint pass_due_{};  // when pass_timer_, if armed, fires
  std::unique_ptr<Timer> periodic_timer_;
  std::chrono::seconds periodic_interval_{0};
  std::unique_ptr<Timer> check_timer_;  // reads charon's SA list after an up/down event
  std::unique_ptr<Timer> change_timer_;  // reads it while a change is on its way in
};

}  // namespace ergw::gateway
