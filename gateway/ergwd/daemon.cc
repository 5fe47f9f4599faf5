#include "gateway/ergwd/daemon.h"

#include <csignal>

#include <boost/asio/post.hpp>

#include "common/atomic_file.h"
#include "gateway/ergwd/data_plane.h"
#include "gateway/ergwd/fastpath_status.h"
#include "gateway/ergwd/log.h"
#include "gateway/ergwd/status.h"
#include "gateway/policy/compiler.h"
#include "gateway/policy/load.h"
#include "gateway/policy/swanctl_renderer.h"
#include "vici/commands.h"

namespace ergw::gateway {

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      signals_(io_, SIGHUP, SIGTERM, SIGINT),
      clock_(make_steady_clock(io_.get_executor())),
      launcher_(host::make_process_launcher(io_.get_executor())),
      host_network_(make_host_network()) {}

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

std::optional<policy::ApplianceConfig> Daemon::read_configuration(std::string_view consequence) {
  Diagnostics diagnostics;
  auto config = policy::load_configuration(
      options_.config_file, diagnostics, policy::ValidationOptions{.strict_expressroute = options_.bgp.strict_expressroute});
  for (const auto& d : diagnostics.all()) {
    if (d.severity == Severity::note) continue;
    log_line(d.severity == Severity::error ? LogLevel::error : LogLevel::warning,
             format_diagnostic(d));
  }
  if (!config) {
    log_line(LogLevel::error, options_.config_file + ": " + std::to_string(diagnostics.error_count()) +
                                  " error(s); " + std::string(consequence));
  }
  return config;
}

DataPlaneChoice Daemon::choose(policy::DataPlane configured) const {
  const auto offer = host::probe_kernel();
  log_line(LogLevel::info, offer.summary());
  return choose_data_plane(configured, offer, find_fastpath(options_.fastpath.installation));
}

bool Daemon::start_with_configuration() {
  constexpr std::string_view kConsequence = "not starting";
  const auto config = read_configuration(kConsequence);
  if (!config) return false;
  const auto choice = choose(config->data_plane);
  reconciler_ = std::make_unique<Reconciler>(*clock_, *client_, choice, tunnel_routes_);
  return apply_configuration(*config, choice, kConsequence);
}

bool Daemon::reload_configuration() {
  constexpr std::string_view kConsequence = "the running configuration stays as it was";
  const auto config = read_configuration(kConsequence);
  if (!config) return false;
  // The kernel and the installation are looked at again only when the
  // configured data plane changed.
  const auto choice = config->data_plane == configured_data_plane_ ? reconciler_->data_plane()
                                                                    : choose(config->data_plane);
  return apply_configuration(*config, choice, kConsequence);
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
  if (!first) reconciler_->set_data_plane(choice);
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

bool Daemon::apply_configuration(const policy::ApplianceConfig& config, const DataPlaneChoice& choice,
                                 std::string_view consequence) {
  const auto compiled = policy::compile(config);
  auto plans = plan_connections(compiled);
  // BGP is validated before anything changes: a refused file changes nothing.
  auto bgp = plan_bgp(compiled, plans, choice.kind, options_.bgp);
  if (!bgp) {
    log_line(LogLevel::error, bgp.error());
    log_line(LogLevel::error, options_.config_file + ": BGP configuration refused; " + std::string(consequence));
    return false;
  }
  add_bgp_host_routes(bgp.value(), plans);
  use_data_plane(choice);
  configured_data_plane_ = config.data_plane;
  const std::string start_settings = data_plane_settings();
  write_charon_settings(policy::render_charon_settings(compiled.charon) + start_settings);
  charon_backend_->configure(choice.kind, start_settings);
  data_plane_warnings_ = data_plane_warnings(reconciler_->data_plane().kind, plans);
  for (const auto& warning : data_plane_warnings_) log_line(LogLevel::warning, warning);
  ++config_generation_;
  log_line(LogLevel::info, options_.config_file + ": " + std::to_string(compiled.connections.size()) +
                               " connection(s), configuration generation " + std::to_string(config_generation_));
  reconciler_->set_desired(std::move(plans));
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
  return true;
}

void Daemon::route_fastpath() {
  if (fastpath_) fastpath_->set_routes(plan_fastpath_routes(reconciler_->desired(), learned_routes_));
}

void Daemon::handle_request(const nlohmann::json& request, ControlServer::Reply reply) {
  const auto command = request.value("command", "");
  if (command == "status") {
    // Never waits on a daemon longer than the status deadline.
    status_->collect(bgp_.get(), [this, reply](CollectedStatus collected) {
      DataPlaneReport plane{data_plane_warnings_, charon_backend_->problem(), std::nullopt};
      if (fastpath_) plane.fastpath = fastpath_->report();
      nlohmann::json status = status_json(
          take_snapshot(*reconciler_, collected.sas, collected.charon_error, clock_->wall_now(), plane));
      if (collected.bgp) status["bgp"] = std::move(*collected.bgp);
      status["not_answering"] = std::move(collected.not_answering);
      reply(std::move(status));
    });
  } else if (command == "reload") {
    const bool ok = reload_configuration();
    reply({{"reloaded", ok}, {"generation", config_generation_}});
  } else {
    reply({{"error", "unknown command \"" + command + "\"; allowed: status, reload"}});
  }
}

void Daemon::wait_for_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      log_line(LogLevel::info, "SIGHUP: reloading " + options_.config_file);
      reload_configuration();
      wait_for_signals();
      return;
    }
    log_line(LogLevel::info, "stopping; tunnels stay up");
    client_->stop();
    io_.stop();
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
    status_ = std::make_unique<StatusCollector>(io_.get_executor(), *clock_, *client_, options_.status_deadline);
  if (!start_with_configuration()) return 2;

  client_->on_connected([this] {
    // A (re)started charon may have read its configuration before ergwd wrote
    // the settings it needs: have it read them again.
    if (!charon_settings_.empty()) reload_charon_settings();
    reconciler_->charon_connected();
    charon_backend_->charon_connected();
  });
  client_->on_disconnected([this](const std::string& reason) { reconciler_->charon_disconnected(reason); });
  client_->on_event([this](const std::string& name, const vici::Message& m) {
    reconciler_->charon_event(name, m);
    if (bgp_ && (name == "ike-updown" || name == "child-updown")) bgp_->tunnel_event(name, m);
  });
  client_->on_diagnostic([](const std::string& text) { log_line(LogLevel::debug, "vici: " + text); });

  control_ = std::make_unique<ControlServer>(
      io_, options_.control_socket,
      [this](const nlohmann::json& request, ControlServer::Reply reply) { handle_request(request, reply); });
  if (auto s = control_->start(); !s) {
    log_line(LogLevel::error, s.error());
    return 1;
  }
  wait_for_signals();
  client_->start();
  reconciler_->start_periodic(options_.repair_interval);
  log_line(LogLevel::info, "ergwd running; control socket " + options_.control_socket + ", vici " +
                               options_.vici_socket);
  io_.run();
  return 0;
}

}  // namespace ergw::gateway
