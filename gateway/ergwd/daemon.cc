#include "gateway/ergwd/daemon.h"

#include <csignal>
#include <map>
#include <set>

#include <boost/asio/post.hpp>

#include "common/atomic_file.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/fastpath_status.h"
#include "gateway/ergwd/log.h"
#include "gateway/ergwd/status.h"
#include "gateway/policy/compiler.h"
#include "gateway/policy/swanctl_renderer.h"
#include "gateway/policy/validator.h"
#include "host/kernel_probe.h"
#include "vici/commands.h"

namespace ergw::gateway {
namespace {

// ergwd brings a new PSK in by reauthenticating make-before-break
// (hitless_change.h): the new IKE SA is up before the old one goes. charon
// 5.9.8 deletes first by default; it reads this when an IKE SA is created.
constexpr const char* kReauthenticationSettings =
    "# a reauthentication sets up the new IKE SA before it deletes the old one\n"
    "charon {\n"
    "    make_before_break = yes\n"
    "}\n";

}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      signals_(io_, SIGHUP, SIGTERM, SIGINT),
      clock_(make_steady_clock(io_.get_executor())),
      service_manager_(std::make_unique<ServiceManager>(*clock_)),
      launcher_(host::make_process_launcher(io_.get_executor())),
      host_network_(make_host_network()),
      firewall_(std::make_unique<FirewallPeers>(options_.firewall, *launcher_)) {}

void Daemon::write_charon_settings(const std::string& text) {
  if (options_.charon_settings_file.empty() || text == charon_settings_) return;
  // Retransmission settings and the routing table: nothing secret (0644).
  FileOptions file;
  file.mode = 0644;
  if (Status s = write_file_atomically(options_.charon_settings_file, text, file); !s) {
    // charon keeps the settings it has; the next load tries again.
    log_line(LogLevel::error, "charon settings not written: " + s.error());
    return;
  }
  charon_settings_ = text;
  // charon reads retransmission settings per new IKE SA: reload-settings is enough.
  if (client_ && client_->connected()) reload_charon_settings();
  log_line(LogLevel::info, "wrote charon settings to " + options_.charon_settings_file);
}

void Daemon::reload_charon_settings() {
  client_->call("reload-settings", {}, [](Result<vici::Message> reply) {
    Status s = reply ? vici::check_success("reload-settings", *reply) : Status(reply.failure());
    if (!s) log_line(LogLevel::warning, s.error());
  });
}

DataPlaneChoice Daemon::choose(policy::DataPlane configured, bool log) const {
  const auto offer = host::probe_kernel();
  if (log) log_line(LogLevel::info, offer.summary());
  return choose_data_plane(configured, offer, find_fastpath(options_.fastpath.installation));
}

DataPlaneChoice Daemon::data_plane_for(const policy::ApplianceConfig& config, bool log) const {
  // The kernel and the installation are looked at again only when the
  // configured data plane changed.
  if (data_plane_started_ && config.data_plane == configured_data_plane_) return reconciler_->data_plane();
  return choose(config.data_plane, log);
}

int Daemon::start_with_configuration() {
  api::Backend& backend = *this;  // the private base, seen from here
  management_ = std::make_unique<ManagementPlane>(io_, options_.management, options_.config_file, backend);
  if (auto s = management_->open(); !s) {
    log_line(LogLevel::error, s.error());
    return 1;
  }
  // The active revision reaches charon and BIRD through apply() below, like
  // every later change.
  if (auto s = management_->start_service(); !s) {
    log_line(LogLevel::error, s.error() + "; not starting");
    return 2;
  }
  // An empty store: the configuration comes through the API; until then the
  // reconciler runs on what `automatic` would choose, and nothing is started.
  if (!reconciler_) ensure_reconciler(choose(policy::DataPlane::automatic, true));
  return 0;
}

void Daemon::reload_configuration(std::function<void(bool accepted)> done) {
  management_->reload_file(std::move(done));
}

void Daemon::ensure_reconciler(const DataPlaneChoice& choice) {
  if (reconciler_) return;
  reconciler_ = std::make_unique<Reconciler>(*clock_, *client_, choice, tunnel_routes_);
  reconciler_->on_tunnels_changed([this] { route_fastpath(); });
  reconciler_->set_pass_observer([this](std::chrono::nanoseconds took) {
    if (management_) management_->board().reconcile_duration().Observe(std::chrono::duration<double>(took).count());
  });
}

void Daemon::check(const policy::ApplianceConfig& config, Diagnostics& diagnostics) {
  // BGP is planned against the data plane the configuration would get.
  const auto kind = data_plane_for(config, false).kind;
  if (options_.bgp.strict_expressroute) {
    // The rule book ran without --strict-expressroute and passed: any error
    // now is an export Azure would route over ExpressRoute, unencrypted.
    Diagnostics strict;
    policy::validate_configuration(config, strict, policy::ValidationOptions{.strict_expressroute = true});
    for (const auto& d : strict.all()) {
      if (d.severity == Severity::error) diagnostics.error(d.path, d.message);
    }
  }
  const auto compiled = policy::compile(config);
  auto plans = plan_connections(compiled);
  if (auto bgp = plan_bgp(compiled, plans, kind, options_.bgp); !bgp) diagnostics.error("connections", bgp.error());
}

void Daemon::use_data_plane(const DataPlaneChoice& choice) {
  const bool first = !data_plane_started_;
  data_plane_started_ = true;
  const auto old_kind = reconciler_->data_plane().kind;
  if (!first && old_kind == choice.kind) return;
  log_line(LogLevel::info, std::string(first ? "data plane: " : "data plane switched from " +
                                                                     data_plane_name(old_kind) + " to ") +
                               data_plane_name(choice.kind) + " (" + choice.why + ")");
  log_line(LogLevel::info, "data plane limits: " + choice.limitations);
  if (fastpath_ && choice.kind != DataPlaneKind::fastpath) {
    // charon restarts without the plugin: nothing reaches the fast path any more.
    retiring_fastpath_ = std::move(fastpath_);
    retiring_fastpath_->stop(std::chrono::seconds(2), [this] {
      boost::asio::post(io_, [this] { retiring_fastpath_.reset(); });
    });
  }
  if (!fastpath_ && choice.kind == DataPlaneKind::fastpath) {
    fastpath_ = std::make_unique<FastpathDaemon>(io_.get_executor(), *clock_, *launcher_, options_.fastpath);
    // A new fast path has a new TUN device, without routes: route into it again.
    fastpath_->on_ready([this] { reconciler_->request_pass(); });
    fastpath_->start();
  }
  // The reconciler made for an empty store ran on `automatic`'s choice.
  if (old_kind != choice.kind) reconciler_->set_data_plane(choice);
}

std::string Daemon::data_plane_settings() const {
  if (fastpath_) return fastpath_->charon_settings();
  if (reconciler_->data_plane().kind == DataPlaneKind::libipsec) {
    // kernel-libipsec (5.9.8) installs `default dev ipsec0` into table 220
    // whatever install_routes says; behind main, ergwd's routes decide.
    return "charon {\n    routing_table = 220\n    routing_table_prio = 32800\n}\n";
  }
  return "";
}

DataPlaneReport Daemon::data_plane_report() const {
  DataPlaneReport plane;
  plane.warnings = data_plane_warnings_;
  plane.charon_backend_problem = charon_backend_->problem();
  if (fastpath_) plane.fastpath = fastpath_->report();
  if (tunnel_mtu_) plane.tunnel_mtu = tunnel_mtu_->report();
  if (mss_clamp_ && reconciler_) {
    plane.mss_clamp = mss_clamp_->report(reconciler_->data_plane().kind, reconciler_->desired());
  } else {
    plane.mss_clamp = {{"connections", nlohmann::json::array()}, {"error", "off (ergwd --nft '')"}};
  }
  return plane;
}

void Daemon::update_mss_clamp() {
  if (!mss_clamp_ || !reconciler_ || !tunnel_mtu_) return;
  mss_clamp_->set(plan_mss_clamps(reconciler_->data_plane().kind, reconciler_->desired(), tunnel_mtu_->applied()));
}

Status Daemon::apply_configuration(const policy::ApplianceConfig& config) {
  const auto choice = data_plane_for(config, true);
  ensure_reconciler(choice);
  const auto compiled = policy::compile(config);
  auto plans = plan_connections(compiled);
  // BGP is validated before anything changes: a refused plan changes nothing.
  auto bgp = plan_bgp(compiled, plans, choice.kind, options_.bgp);
  if (!bgp) {
    log_line(LogLevel::error, bgp.error());
    return Error{"BGP configuration refused: " + bgp.error()};
  }
  add_bgp_host_routes(bgp.value(), plans);
  use_data_plane(choice);
  configured_data_plane_ = config.data_plane;
  const std::string start_settings = data_plane_settings();
  write_charon_settings(policy::render_charon_settings(compiled.charon) + kReauthenticationSettings + start_settings);
  charon_backend_->configure(choice.kind, start_settings);
  data_plane_warnings_ = data_plane_warnings(reconciler_->data_plane().kind, plans);
  for (const auto& warning : data_plane_warnings_) log_line(LogLevel::warning, warning);
  ++config_generation_;
  log_line(LogLevel::info, std::to_string(compiled.connections.size()) +
                               " connection(s), configuration generation " + std::to_string(config_generation_));
  if (tunnel_mtu_) tunnel_mtu_->set_plans(reconciler_->data_plane().kind, plans);
  reconciler_->set_desired(std::move(plans));
  update_mss_clamp();
  firewall_->apply(reconciler_->desired());
  if (!bgp_) {
    bgp_ = std::make_unique<BgpController>(
        BgpEnvironment{io_.get_executor(), *clock_, *launcher_, *host_network_, *client_}, options_.bgp);
    bgp_->on_learned_routes([this](const LearnedRoutes& learned) {
      learned_routes_ = learned;
      route_fastpath();
    });
  }
  route_fastpath();
  bgp_->apply(std::move(bgp.value()));
  return Status::success();
}

void Daemon::route_fastpath() {
  if (fastpath_) {
    fastpath_->set_routes(plan_fastpath_routes(reconciler_->desired(), learned_routes_, reconciler_->tunnels_up()));
  }
}

void Daemon::apply(const policy::ApplianceConfig& config, std::function<void(api::ApplyResult)> done) {
  std::map<std::string, std::string> before;
  if (reconciler_) {
    for (const auto& plan : reconciler_->desired()) before[plan.name] = plan.fingerprint;
  }
  api::ApplyResult result;
  if (auto s = apply_configuration(config); !s) {
    result.accepted = false;
    result.error = s.error();
    done(std::move(result));
    return;
  }
  std::set<std::string> now;
  for (const auto& plan : reconciler_->desired()) {
    now.insert(plan.name);
    auto old = before.find(plan.name);
    result.connections.push_back(
        {plan.name, old == before.end() ? "added" : old->second == plan.fingerprint ? "unchanged" : "changed", ""});
  }
  for (const auto& [name, fingerprint] : before) {
    if (!now.count(name)) result.connections.push_back({name, "removed", ""});
  }
  if (publisher_) publisher_->refresh();
  if (!reconciler_->charon_up()) {
    result.note = "charon is not connected; the configuration is applied when it is back";
    done(std::move(result));
    return;
  }
  // Answered when charon has taken (or refused) it: the tunnels' outcome is
  // followed from the published observation.
  reconciler_->after_next_pass([this, result = std::move(result), done = std::move(done)]() mutable {
    for (auto& c : result.connections) {
      if (c.change == "removed") continue;
      if (auto why = reconciler_->refusal(c.name)) {
        c.error = *why;
        result.accepted = false;
      }
    }
    if (!result.accepted) result.error = "charon refused part of the configuration";
    if (publisher_) publisher_->refresh();
    done(std::move(result));
  });
}

void Daemon::handle_request(const nlohmann::json& request, ControlServer::Reply reply) {
  const auto command = request.value("command", "");
  if (command == "status") {
    // Never waits on a daemon longer than the status deadline.
    status_->collect(bgp_.get(), [this, reply](CollectedStatus collected) {
      const auto snapshot = take_snapshot(*reconciler_, collected.sas, collected.charon_error, clock_->wall_now(),
                                          data_plane_report());
      reply(status_report(snapshot, std::move(collected)));
    });
  } else if (command == "reload") {
    reload_configuration([this, reply](bool ok) { reply({{"reloaded", ok}, {"generation", config_generation_}}); });
  } else {
    reply({{"error", "unknown command \"" + command + "\"; allowed: status, reload"}});
  }
}

void Daemon::wait_for_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      log_line(LogLevel::info, "SIGHUP: reading " + options_.config_file);
      reload_configuration([](bool) {});
      wait_for_signals();
      return;
    }
    log_line(LogLevel::info, "stopping; tunnels stay up");
    service_manager_->stopping();
    client_->stop();
    io_.stop();
  });
}

void Daemon::report_readiness() {
  if (auto interval = service_manager_->start_watchdog()) {
    log_line(LogLevel::info, "systemd watchdog: pinging every " + std::to_string(interval->count()) + " ms");
  }
  service_manager_->status("waiting for charon (" + options_.vici_socket + ") and the first reconciliation pass");
  // The first pass runs once charon answers; ready means the configuration
  // reached charon (taken or refused: `ergw status` says which).
  reconciler_->after_next_pass([this] {
    service_manager_->ready("running: " + std::to_string(reconciler_->desired().size()) + " connection(s) applied");
    log_line(LogLevel::info, "ready: the first reconciliation pass finished");
  });
}

int Daemon::run() {
  vici::ClientOptions vici_options;
  vici_options.socket_path = options_.vici_socket;
  // The rekey events tell a routine delete of a replaced IKE SA from a peer
  // closing the tunnel, and count rekeys.
  vici_options.events = {"ike-updown", "child-updown", "ike-rekey", "child-rekey", "log"};
  vici_options.reconnect_max_delay = std::chrono::milliseconds(2000);
  client_ = std::make_unique<vici::Client>(io_.get_executor(), vici_options);
  charon_backend_ = std::make_unique<CharonBackend>(*client_, *launcher_, options_.charon_restart_command);
  link_mtu_ = make_link_mtu();
  tunnel_mtu_ = std::make_unique<TunnelMtu>(*clock_, *client_, *link_mtu_);
  if (!options_.nft.empty()) {
    const auto dir = options_.management.state_dir;
    mss_clamp_ = std::make_unique<MssClamp>(
        *launcher_, MssClampOptions{options_.nft, dir + "/mss-clamp.nft", dir + "/mss-clamp.log"});
  }
  status_ = std::make_unique<StatusCollector>(io_.get_executor(), *clock_, *client_, options_.status_deadline);
  if (int code = start_with_configuration(); code != 0) return code;
  publisher_ = std::make_unique<StatePublisher>(io_.get_executor(), *clock_, *status_, *reconciler_,
                                                [this] { return bgp_.get(); },
                                                [this] {
                                                  update_mss_clamp();  // the tunnel MTUs may have moved
                                                  return data_plane_report();
                                                },
                                                management_->board(), options_.publish_interval);

  client_->on_connected([this] {
    // A (re)started charon may have read its configuration before ergwd wrote
    // the settings it needs: have it read them again.
    if (!charon_settings_.empty()) reload_charon_settings();
    reconciler_->charon_connected();
    charon_backend_->charon_connected();
  });
  client_->on_disconnected([this](const std::string& reason) {
    reconciler_->charon_disconnected(reason);
    publisher_->charon_gone();
  });
  client_->on_event([this](const std::string& name, const vici::Message& m) {
    // An old IKE SA that a hitless change retires going down is no tunnel
    // going down: its BGP session stays (the new IKE SA carries it).
    const bool retired = reconciler_->retired_by_change(name, m);
    reconciler_->charon_event(name, m);
    if (bgp_ && !retired && (name == "ike-updown" || name == "child-updown")) bgp_->tunnel_event(name, m);
    tunnel_mtu_->charon_event(name, m);
    publisher_->charon_event(name, m);
  });
  client_->on_diagnostic([](const std::string& text) { log_line(LogLevel::debug, "vici: " + text); });

  if (!options_.control_socket.empty()) {
    control_ = std::make_unique<ControlServer>(
        io_, options_.control_socket,
        [this](const nlohmann::json& request, ControlServer::Reply reply) { handle_request(request, reply); });
    if (auto s = control_->start(); !s) {
      log_line(LogLevel::error, s.error());
      return 1;
    }
  }
  if (auto s = management_->start_api(); !s) {
    log_line(LogLevel::error, s.error());
    return 1;
  }
  wait_for_signals();
  report_readiness();
  client_->start();
  reconciler_->start_periodic(options_.repair_interval);
  publisher_->start();
  log_line(LogLevel::info, "ergwd running; vici " + options_.vici_socket +
                               (options_.control_socket.empty() ? "" : ", control socket " + options_.control_socket));
  io_.run();
  // The MSS clamp stays, like charon's tunnels: TCP set up while ergwd is
  // down must still be clamped (a restarted ergwd replaces the table).
  management_->stop();
  return 0;
}

}  // namespace ergw::gateway
