#include "gateway/ergwd/reconciler.h"

#include <algorithm>
#include <array>
#include <utility>

#include "gateway/ergwd/log.h"
#include "gateway/ergwd/route_selection.h"
#include "gateway/ergwd/tunnel.h"
#include "vici/commands.h"

namespace ergw::gateway {
namespace {

std::vector<TrackedConnection> tracked_connections(const std::vector<ConnectionPlan>& plans) {
  std::vector<TrackedConnection> out;
  for (const auto& p : plans) out.push_back({p.name, p.remote, p.children, p.local_id, p.remote_id});
  return out;
}

// Calls `done` once `count` completions have been reported (at once for 0).
std::function<void()> after_all(size_t count, std::function<void()> done) {
  if (count == 0) {
    done();
    return [] {};
  }
  auto remaining = std::make_shared<size_t>(count);
  return [remaining, done = std::move(done)] {
    if (--*remaining == 0) done();
  };
}

std::vector<PfsProbeConnection> probed_connections(const std::vector<ConnectionPlan>& plans) {
  std::vector<PfsProbeConnection> out;
  for (const auto& p : plans) out.push_back({p.name, p.children, p.pfs_group, p.pfs_probe});
  return out;
}

// The probe's rekey: by the CHILD SA's unique id, so that only that one is
// rekeyed (a policy-based connection has several).
PfsProbe::Rekey rekey_over(vici::Client& client) {
  return [&client](const std::string& connection, uint64_t child_id, std::function<void(std::string)> done) {
    log_connection(LogLevel::info, connection, "PFS probe: rekeying CHILD SA " + std::to_string(child_id));
    vici::RekeyRequest request;
    request.child_id = child_id;
    vici::rekey(client, request, [done](Result<uint64_t> matches) {
      if (!matches) {
        done(matches.error());
      } else if (matches.value() == 0) {
        done("no CHILD SA matched (it went away)");
      } else {
        done("");
      }
    });
  };
}

void report_probe(bool problem, const std::string& line) {
  log_line(problem ? LogLevel::warning : LogLevel::info, line);
}

}  // namespace

Reconciler::Reconciler(Clock& clock, vici::Client& client, DataPlaneChoice data_plane, TunnelRoutes& routes,
                       ReconcilerOptions options)
    : clock_(clock),
      client_(client),
      data_plane_(std::move(data_plane)),
      tunnel_routes_(routes),
      options_(options),
      health_(clock),
      pfs_probe_(clock, rekey_over(client), report_probe),
      pass_timer_(clock.make_timer()),
      periodic_timer_(clock.make_timer()),
      check_timer_(clock.make_timer()),
      change_timer_(clock.make_timer()) {}

void Reconciler::set_desired(std::vector<ConnectionPlan> plans) {
  plans_ = std::move(plans);
  health_.set_connections(tracked_connections(plans_));
  pfs_probe_.set_connections(probed_connections(plans_));
  request_pass();
}

const ConnectionPlan* Reconciler::find_plan(const std::string& name) const {
  for (const auto& p : plans_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void Reconciler::charon_connected() {
  charon_up_ = true;
  // A (re)started charon holds nothing of ours, and counts its SAs from 1.
  loaded_.clear();
  loaded_plans_.clear();
  last_sas_.clear();
  changes_.clear();
  retiring_.clear();
  retiring_children_.clear();
  health_.charon_restarted();
  pfs_probe_.charon_restarted();
  log_line(LogLevel::info, "connected to charon; applying the configuration");
  request_pass();
}

void Reconciler::charon_disconnected(const std::string& reason) {
  if (charon_up_) log_line(LogLevel::warning, "lost charon: " + reason + "; will re-apply when it is back");
  charon_up_ = false;
  loaded_.clear();
  loaded_plans_.clear();
  last_sas_.clear();
  changes_.clear();
  // The SAs are not known now; the routes stay where they are (a restarted
  // charon's SAs are read at the first pass).
}

bool Reconciler::retired_by_change(const std::string& name, const vici::Message& message) const {
  if (retiring_.empty() && retiring_children_.empty()) return false;
  if (name != "ike-updown" && name != "child-updown") return false;
  auto event = vici::parse_updown_event(message);
  if (!event || event->up) return false;
  if (retiring_.count(event->ike_sa.uniqueid) != 0) return true;
  // An old CHILD SA that new ones replaced, in an IKE SA that stays.
  const auto& gone = event->ike_sa.child_sas;
  return name == "child-updown" && !gone.empty() && std::all_of(gone.begin(), gone.end(), [this](const auto& child) {
    return retiring_children_.count(child.uniqueid) != 0;
  });
}

void Reconciler::charon_event(const std::string& name, const vici::Message& message) {
  health_.on_event(name, message);
  pfs_probe_.on_event(name, message);
  if (retired_by_change(name, message)) {
    auto event = vici::parse_updown_event(message);
    if (event && name == "ike-updown") retiring_.erase(event->ike_sa.uniqueid);
    if (event && name == "child-updown") {
      for (const auto& child : event->ike_sa.child_sas) retiring_children_.erase(child.uniqueid);
      // Out of the SA list too: the connection's state is read from it.
      still_up_after(name, *event);
    }
    return;
  }
  if (name == "child-rekey" && !changes_.empty()) {
    auto rekey = vici::parse_child_rekey_event(message);
    const auto change = rekey ? changes_.find(rekey->ike_name) : changes_.end();
    if (change != changes_.end()) note_child_rekey(change->second, rekey->old_sa.uniqueid, rekey->new_sa.uniqueid);
    return;
  }
  if (name == "ike-updown" || name == "child-updown") {
    // A tunnel of ours that went down is re-dialled (if ergw dials it) on a
    // pass soon. An IKE SA that never had a connection (a refused peer) is
    // none of ours.
    auto event = vici::parse_updown_event(message);
    if (!event || !find_plan(event->ike_sa.name)) return;
    if (!event->up) {
      request_pass(options_.redial_delay);
      // Its routes move to the other tunnels at once, unless another IKE SA
      // of the connection carries it (both sides dialled at once, and DPD or
      // the peer removes one of them: nothing to move). charon's SA list
      // confirms it shortly (a rekey collision also says "down").
      if (still_up_after(name, *event)) {
        log_connection(LogLevel::info, event->ike_sa.name,
                       name + " down for IKE SA #" + std::to_string(event->ike_sa.uniqueid) +
                           "; another of its SAs carries the connection, its routes stay");
      } else if (tunnels_up_.count(event->ike_sa.name) != 0) {
        auto up = tunnels_up_;
        up.erase(event->ike_sa.name);
        log_connection(LogLevel::info, event->ike_sa.name, name + " down; its routes move to the tunnels still up");
        set_tunnels_up(std::move(up));
      }
      check_timer_->start(std::chrono::milliseconds(500), [this] { check_tunnels(); });
    } else if (name == "child-updown") {
      // Up once every CHILD is installed: charon's list says when.
      check_timer_->start(std::chrono::milliseconds(50), [this] { check_tunnels(); });
    }
  }
}

void Reconciler::check_tunnels() {
  if (!charon_up_) return;
  vici::list_sas(client_, {}, [this](Result<std::vector<vici::IkeSaInfo>> sas) {
    if (!sas) {
      log_line(LogLevel::debug, "list-sas for the tunnels' state failed: " + sas.error());
      return;
    }
    last_sas_ = sas.value();
    std::set<std::string> up;
    for (const auto& plan : plans_) {
      if (observe_tunnel(plan.name, plan.children, last_sas_).up()) up.insert(plan.name);
    }
    set_tunnels_up(std::move(up));
  });
}

bool Reconciler::still_up_after(const std::string& event_name, const vici::UpDownEvent& event) {
  const uint64_t ike = event.ike_sa.uniqueid;
  if (event_name == "ike-updown") {
    std::erase_if(last_sas_, [ike](const vici::IkeSaInfo& sa) { return sa.uniqueid == ike; });
  } else {
    for (auto& sa : last_sas_) {
      if (sa.uniqueid != ike) continue;
      std::erase_if(sa.child_sas, [&event](const vici::ChildSaInfo& child) {
        return std::any_of(event.ike_sa.child_sas.begin(), event.ike_sa.child_sas.end(),
                           [&child](const vici::ChildSaInfo& gone) { return gone.uniqueid == child.uniqueid; });
      });
    }
  }
  const ConnectionPlan* plan = find_plan(event.ike_sa.name);
  return plan != nullptr && observe_tunnel(plan->name, plan->children, last_sas_).up();
}

void Reconciler::set_tunnels_up(std::set<std::string> up) {
  if (up == tunnels_up_) return;
  tunnels_up_ = std::move(up);
  sync_routes();
  if (on_tunnels_changed_) on_tunnels_changed_();
}

void Reconciler::request_pass(std::chrono::milliseconds delay) {
  if (running_) {
    again_ = true;
    return;
  }
  // Never postpone a pass already due sooner.
  const auto due = clock_.now() + delay;
  if (pass_timer_->armed() && pass_due_ <= due) return;
  pass_due_ = due;
  pass_timer_->start(delay, [this] { run_pass(); });  // replaces a later one
}

void Reconciler::start_periodic(std::chrono::seconds interval) {
  periodic_interval_ = interval;
  periodic_timer_->start(interval, [this] {
    request_pass();
    start_periodic(periodic_interval_);
  });
}

void Reconciler::after_next_pass(std::function<void()> done) { before_pass_.push_back(std::move(done)); }

std::optional<std::string> Reconciler::refusal(const std::string& name) const {
  const auto* plan = find_plan(name);
  if (plan == nullptr) return std::nullopt;
  auto loaded = loaded_.find(name);
  if (loaded != loaded_.end() && loaded->second == plan->fingerprint) return std::nullopt;
  const auto* health = health_.find(name);
  if (health == nullptr || !health->last_error) return std::nullopt;
  const auto failure = health->last_error->failure;
  if (failure != TunnelFailure::configuration_refused && failure != TunnelFailure::key_refused) return std::nullopt;
  return health->last_error->detail;
}

// --- the pass --------------------------------------------------------------

void Reconciler::run_pass() {
  if (running_) {
    again_ = true;
    return;
  }
  if (!charon_up_) {
    sync_routes();  // routes need no charon; they wait for their device
    return;
  }
  running_ = true;
  in_pass_ = std::exchange(before_pass_, {});
  pass_started_ = clock_.now();
  run_step(std::make_shared<Pass>(), 0);
}

void Reconciler::run_step(const PassPtr& pass, size_t index) {
  static constexpr std::array<Step, 5> kSteps{&Reconciler::read_charon_connections, &Reconciler::unload_unconfigured,
                                              &Reconciler::load_new_and_changed, &Reconciler::dial_missing,
                                              &Reconciler::install_routes};
  if (index >= kSteps.size()) {
    finish_pass();
    return;
  }
  (this->*kSteps[index])(pass, [this, pass, index] { run_step(pass, index + 1); });
}

void Reconciler::finish_pass() {
  running_ = false;
  const auto took = clock_.now() - pass_started_;
  ++pass_times_.passes;
  pass_times_.last = std::chrono::duration_cast<std::chrono::microseconds>(took);
  pass_times_.longest = std::max(pass_times_.longest, pass_times_.last);
  if (pass_observer_) pass_observer_(took);
  for (auto& done : std::exchange(in_pass_, {})) done();
  if (again_) {
    again_ = false;
    request_pass();
  }
}

void Reconciler::read_charon_connections(const PassPtr& pass, Done done) {
  vici::get_conns(client_, [this, pass, done](Result<std::vector<std::string>> names) {
    if (!names) {
      // Without knowing what charon holds, nothing can be compared: the
      // routes still can be kept, the rest waits for the next pass.
      log_line(LogLevel::warning, "get-conns failed: " + names.error());
      install_routes(pass, [this] { finish_pass(); });
      return;
    }
    pass->charon_connections = std::move(names.value());
    done();
  });
}

void Reconciler::unload_unconfigured(const PassPtr& pass, Done done) {
  std::vector<std::string> stale;
  for (const auto& name : pass->charon_connections) {
    if (!find_plan(name)) stale.push_back(name);
  }
  auto unloaded = after_all(stale.size(), std::move(done));
  for (const auto& name : stale) {
    log_connection(LogLevel::info, name, "no longer configured; unloading");
    vici::TerminateRequest t;
    t.ike = name;
    t.force = true;
    t.timeout_ms = -1;
    vici::terminate(client_, t, [name](Result<vici::TerminateResult> r) {
      if (!r) log_connection(LogLevel::debug, name, "terminate: " + r.error());
    });
    vici::unload_shared(client_, "ike-" + name, [name](Status s) {
      if (!s) log_connection(LogLevel::debug, name, "unload-shared: " + s.error());
    });
    vici::unload_conn(client_, name, [this, name, unloaded](Status s) {
      if (!s) log_connection(LogLevel::warning, name, "unload failed: " + s.error());
      loaded_.erase(name);
      loaded_plans_.erase(name);
      changes_.erase(name);
      unloaded();
    });
  }
}

void Reconciler::load_new_and_changed(const PassPtr& pass, Done done) {
  std::vector<const ConnectionPlan*> to_load;
  for (const auto& plan : plans_) {
    const auto& held = pass->charon_connections;
    const bool in_charon = std::find(held.begin(), held.end(), plan.name) != held.end();
    auto it = loaded_.find(plan.name);
    if (!in_charon || it == loaded_.end() || it->second != plan.fingerprint) to_load.push_back(&plan);
  }
  auto loaded = after_all(to_load.size(), std::move(done));
  for (const auto* plan : to_load) {
    // A connection charon holds in another version takes the new one
    // make-before-break where it can.
    const auto before = loaded_plans_.find(plan->name);
    load_connection(*plan, before != loaded_plans_.end() ? decide_change(before->second, *plan) : ChangeDecision{},
                    loaded);
  }
}

void Reconciler::load_connection(const ConnectionPlan& plan, ChangeDecision change, Done done) {
  vici::SharedKeyInfo key;
  key.id = plan.secret.name;
  key.owners = plan.secret.owners;
  const std::string name = plan.name;
  const std::string fingerprint = plan.fingerprint;
  const vici::Section conn = plan.conn;
  auto loading = std::make_shared<const ConnectionPlan>(plan);
  vici::load_shared(client_, key, plan.secret.secret.reveal(), [this, name, fingerprint, conn, change, loading,
                                                                done](Status shared) {
    if (!shared) {
      // Not applied: the next pass tries the PSK again.
      note_failure(name, shared.failure(), TunnelFailure::key_refused, "loading its PSK");
      done();
      return;
    }
    health_.clear_error(name, TunnelFailure::key_refused);
    vici::load_conn(client_, name, conn, [this, name, fingerprint, change, loading, done](Status loaded) {
      if (!loaded) {
        note_failure(name, loaded.failure(), TunnelFailure::configuration_refused, "loading it into charon");
        done();
        return;
      }
      health_.clear_error(name, TunnelFailure::configuration_refused);
      loaded_[name] = fingerprint;
      loaded_plans_[name] = *loading;
      if (change.method == ChangeMethod::none) {
        log_connection(LogLevel::info, name, "loaded into charon");
      } else {
        log_connection(LogLevel::info, name,
                       "configuration changed; reloaded; " + change.why + ": applying it by " +
                           std::string(to_string(change.method)));
        apply_change(name, change);
      }
      done();
    });
  });
}

void Reconciler::apply_change(const std::string& name, const ChangeDecision& change) {
  const auto* plan = find_plan(name);
  if (plan == nullptr) return;
  if (change.method == ChangeMethod::restart) {
    changes_.erase(name);
    // Break-before-make: charon has no start action to dial again (ergwd
    // dials), so the connection is dialled as soon as the old IKE SAs are
    // being deleted (charon then no longer picks them for the new CHILD).
    vici::TerminateRequest t;
    t.ike = name;
    t.timeout_ms = -1;
    const bool dial = plan->dial && !plan->children.empty();
    const std::string first = dial ? plan->children.front() : std::string();
    vici::terminate(client_, t, [this, name, first](Result<vici::TerminateResult> r) {
      if (!r) log_connection(LogLevel::debug, name, "terminate: " + r.error());
      const auto* now = find_plan(name);
      if (!first.empty() && now != nullptr) initiate(*now, first);
    });
    return;
  }
  // Make-before-break: the IKE SAs charon holds now are the old ones.
  vici::ListSasFilter filter;
  filter.ike = name;
  vici::list_sas(client_, filter, [this, name, change](Result<std::vector<vici::IkeSaInfo>> sas) {
    if (!sas) {
      // Without the old IKE SAs known, the change cannot be made hitless.
      log_connection(LogLevel::warning, name, "list-sas failed (" + sas.error() + "); restarting it instead");
      apply_change(name, {ChangeMethod::restart, "charon's SA list unreadable"});
      return;
    }
    auto& started = changes_[name] = start_change(change.method, name, sas.value());
    started.then_new_child_sas = change.then_new_child_sas;
    advance_changes(sas.value());
  });
}

void Reconciler::check_changes() {
  if (!charon_up_ || changes_.empty()) return;
  vici::list_sas(client_, {}, [this](Result<std::vector<vici::IkeSaInfo>> sas) {
    if (!sas) {
      log_line(LogLevel::debug, "list-sas for the changes in progress failed: " + sas.error());
      change_timer_->start(std::chrono::milliseconds(500), [this] { check_changes(); });
      return;
    }
    advance_changes(sas.value());
  });
}

void Reconciler::retire(uint64_t ike_id) {
  retiring_.insert(ike_id);
  // Bounded: an IKE SA whose down event never came (charon went away) must
  // not stay forever; the lowest ids are the oldest.
  while (retiring_.size() > 64) retiring_.erase(retiring_.begin());
}

void Reconciler::terminate_sa(const std::string& name, SaKind kind, uint64_t id) {
  vici::TerminateRequest t;
  (kind == SaKind::ike ? t.ike_id : t.child_id) = id;
  t.timeout_ms = -1;
  const std::string what = std::string(kind == SaKind::ike ? "IKE" : "CHILD") + " SA #" + std::to_string(id);
  vici::terminate(client_, t, [name, what](Result<vici::TerminateResult> r) {
    if (!r) log_connection(LogLevel::debug, name, "terminate " + what + ": " + r.error());
  });
}

void Reconciler::retire_child(uint64_t child_id) {
  retiring_children_.insert(child_id);
  while (retiring_children_.size() > 256) retiring_children_.erase(retiring_children_.begin());
}

namespace {

std::string id_list(const std::vector<uint64_t>& ids) {
  std::string out;
  for (const auto id : ids) out += (out.empty() ? "#" : ", #") + std::to_string(id);
  return out;
}

}  // namespace

void Reconciler::finish_child_change(const std::string& name, const ChangeNext& next) {
  if (next.new_children.empty()) {
    log_connection(LogLevel::info, name, "its IKE SAs are gone; it is dialled with the new settings");
    return;
  }
  log_connection(LogLevel::info, name,
                 "the new CHILD SA" + std::string(next.new_children.size() > 1 ? "s " : " ") +
                     id_list(next.new_children) + (next.new_children.size() > 1 ? " carry" : " carries") +
                     " every CHILD with the new settings" +
                     (next.old_children.empty() ? std::string()
                                                : "; deleting the old CHILD SA" +
                                                      std::string(next.old_children.size() > 1 ? "s " : " ") +
                                                      id_list(next.old_children)));
  for (const auto id : next.old_children) {
    retire_child(id);
    terminate_sa(name, SaKind::child, id);
  }
}

void Reconciler::advance_changes(const std::vector<vici::IkeSaInfo>& sas) {
  for (auto it = changes_.begin(); it != changes_.end();) {
    const std::string name = it->first;
    HitlessChange& change = it->second;
    const auto* plan = find_plan(name);
    if (plan == nullptr) {
      it = changes_.erase(it);
      continue;
    }
    const auto next = next_change_step(change, name, plan->children, sas, clock_.now());
    if (next.step == ChangeStep::finish && change.method == ChangeMethod::new_child_sas) {
      finish_child_change(name, next);
      it = changes_.erase(it);
      continue;
    }
    if (next.step == ChangeStep::finish && change.then_new_child_sas && next.new_ike_sa != 0) {
      // Reauthenticated with the new PSK, but charon re-created the CHILD SAs
      // from their old configs: new CHILD SAs follow in the new IKE SA. The
      // old IKE SA charon deletes itself counts as old here as well.
      log_connection(LogLevel::info, name, "the new IKE SA #" + std::to_string(next.new_ike_sa) +
                                               " carries the new PSK; now new CHILD SAs with the new CHILD settings");
      for (const auto id : next.old) {
        retire(id);
        terminate_sa(name, SaKind::ike, id);
      }
      change = start_change(ChangeMethod::new_child_sas, name, sas);
      continue;  // the same entry again, as a CHILD change
    }
    if (next.step == ChangeStep::finish) {
      if (next.new_ike_sa != 0) {
        std::string old;
        for (const auto id : next.old) old += (old.empty() ? " #" : ", #") + std::to_string(id);
        log_connection(LogLevel::info, name, "the new IKE SA #" + std::to_string(next.new_ike_sa) +
                                     " carries every CHILD with the new settings" +
                                     (old.empty() ? std::string() : "; deleting the old IKE SA" + old));
      } else {
        log_connection(LogLevel::info, name, "its old IKE SAs are gone; it is dialled with the new settings");
      }
      for (const auto id : next.old) {
        retire(id);
        terminate_sa(name, SaKind::ike, id);
      }
      it = changes_.erase(it);
      continue;
    }
    if (next.step == ChangeStep::fall_back) {
      log_connection(LogLevel::warning, name, "charon put the new CHILD SA into the old IKE SA; restarting it instead");
      it = changes_.erase(it);
      apply_change(name, {ChangeMethod::restart, "fall back"});
      continue;
    }
    if (next.step == ChangeStep::make) {
      if (next.reauthenticate != 0) {
        log_connection(LogLevel::info, name, "reauthenticating IKE SA #" + std::to_string(next.reauthenticate) +
                                     " make-before-break (a new IKE SA with the new PSK first)");
        change.reauthenticated = next.reauthenticate;
        retire(next.reauthenticate);
        vici::RekeyRequest request;
        request.ike_id = next.reauthenticate;
        request.reauth = true;
        vici::rekey(client_, request, [name](Result<uint64_t> matches) {
          if (!matches) log_connection(LogLevel::warning, name, "reauthentication: " + matches.error());
        });
      }
      for (const auto& child : next.initiate) initiate(*plan, child);
      note_made(change, name, sas, clock_.now());
    }
    ++it;
  }
  if (!changes_.empty()) change_timer_->start(std::chrono::milliseconds(500), [this] { check_changes(); });
}

void Reconciler::dial_missing(const PassPtr&, Done done) {
  vici::list_sas(client_, {}, [this, done](Result<std::vector<vici::IkeSaInfo>> sas) {
    if (!sas) {
      log_line(LogLevel::warning, "list-sas failed: " + sas.error());
      done();
      return;
    }
    last_sas_ = sas.value();
    if (!changes_.empty()) advance_changes(sas.value());
    pfs_probe_.note_established(sas.value());
    std::set<std::string> up;
    for (const auto& plan : plans_) {
      const Tunnel tunnel = observe_tunnel(plan.name, plan.children, sas.value());
      if (tunnel.up()) up.insert(plan.name);
      if (!plan.dial || loaded_.count(plan.name) == 0 || plan.children.empty()) continue;
      if (tunnel.ike_sas.empty()) {
        // The first CHILD brings the IKE SA; the others follow once it is up.
        initiate(plan, plan.children.front());
      } else if (tunnel.established_ike_sas() > 0) {
        for (const auto& child : tunnel.children_with(ChildCoverage::missing)) initiate(plan, child);
      }
      // An IKE SA being set up means charon is on it (it retries by itself,
      // keyingtries = 0): initiating again would only stack half-open SAs.
    }
    set_tunnels_up(std::move(up));
    done();
  });
}

void Reconciler::initiate(const ConnectionPlan& plan, const std::string& child) {
  log_connection(LogLevel::info, plan.name, "initiating " + child);
  vici::InitiateRequest request;
  request.ike = plan.name;
  request.child = child;
  request.timeout_ms = -1;  // follow events, do not block the command connection
  const std::string name = plan.name;
  vici::initiate(client_, request, [this, name](Result<std::vector<vici::ControlLogLine>> r) {
    if (!r) note_failure(name, r.failure(), TunnelFailure::initiate_refused, "initiate");
  });
}

void Reconciler::note_failure(const std::string& connection, const Error& error, TunnelFailure refusal,
                              std::string_view doing) {
  if (error.code == ErrorCode::refused) {
    health_.record(connection, refusal, error.message);
  } else {
    log_connection(LogLevel::warning, connection, std::string(doing) + " failed: " + error.message);
  }
}

void Reconciler::install_routes(const PassPtr&, Done done) {
  sync_routes();
  done();
}

void Reconciler::sync_routes() {
  const bool kernel = data_plane_.kind == DataPlaneKind::kernel;
  for (const auto& plan : plans_) {
    const auto device = tunnel_device(data_plane_.kind, plan.if_id);
    if (kernel && plan.if_id != 0 && !tunnel_routes_.device_exists(device)) {
      auto s = tunnel_routes_.create_xfrm_interface(device, plan.if_id);
      if (!s) log_connection(LogLevel::error, plan.name, s.error());
    }
  }
  std::map<std::string, std::vector<std::string>> wanted;
  for (const auto& [prefix, carriers] : select_routes(plans_, tunnels_up_)) {
    std::vector<std::string> devices;
    for (const size_t i : carriers) {
      // Policy-based in the kernel: the XFRM policies catch the traffic, no route needed.
      if (plans_[i].if_id == 0 && kernel) continue;
      const auto device = tunnel_device(data_plane_.kind, plans_[i].if_id);
      // A route waits for its device (a TUN charon or the fast path has not
      // created yet); the others of a multipath route need not.
      if (!tunnel_routes_.device_exists(device)) continue;
      if (std::find(devices.begin(), devices.end(), device) == devices.end()) devices.push_back(device);
    }
    if (!devices.empty()) wanted[prefix.to_string()] = std::move(devices);
  }
  const auto describe = [](const std::string& prefix, const std::vector<std::string>& devices) {
    std::string text = "route " + prefix;
    for (const auto& d : devices) text += (devices.size() > 1 ? " nexthop dev " : " dev ") + d;
    return text;
  };
  for (const auto& [prefix, devices] : wanted) {
    // Replace every pass: idempotent, and a TUN that charon re-created came
    // back without our routes.
    auto s = tunnel_routes_.replace_route(*IpPrefix::parse(prefix), devices);
    if (s) {
      const auto it = routes_.find(prefix);
      if (it == routes_.end() || it->second != devices) log_line(LogLevel::info, describe(prefix, devices));
      routes_[prefix] = devices;
    } else {
      routes_.erase(prefix);
      log_line(LogLevel::debug, s.error());
    }
  }
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    (void)tunnel_routes_.delete_route(*IpPrefix::parse(it->first), it->second);
    log_line(LogLevel::info, "removed " + describe(it->first, it->second));
    it = routes_.erase(it);
  }
}

std::set<std::pair<std::string, std::string>> Reconciler::installed_routes() const {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [prefix, devices] : routes_) {
    for (const auto& device : devices) out.insert({prefix, device});
  }
  return out;
}

void Reconciler::set_data_plane(DataPlaneChoice data_plane) {
  data_plane_ = std::move(data_plane);
  request_pass();
}

void Reconciler::remove_routes() {
  for (const auto& [prefix, devices] : routes_) (void)tunnel_routes_.delete_route(*IpPrefix::parse(prefix), devices);
  routes_.clear();
}

}  // namespace ergw::gateway
