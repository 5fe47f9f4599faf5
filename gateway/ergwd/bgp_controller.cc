#include "gateway/ergwd/bgp_controller.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <boost/asio/post.hpp>

#include "gateway/ergwd/bgp_session_error.h"
#include "gateway/ergwd/log.h"
#include "gateway/ergwd/tcp_md5_evidence.h"
#include "gateway/ergwd/tunnel.h"
#include "routing/bird_config_writer.h"
#include "routing/bird_log.h"
#include "routing/multipath.h"
#include "routing/peer_validation.h"
#include "vici/commands.h"
#include "vici/sa_info.h"

namespace ergw::gateway {
namespace {

// BIRD protocol names are symbols: keep letters, digits and '_'.
std::string peer_name(const std::string& connection) {
  std::string name;
  for (char c : connection) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}


}  // namespace

Result<BgpPlan> plan_bgp(const policy::CompiledConfiguration& compiled, const std::vector<ConnectionPlan>& plans,
                         DataPlaneKind data_plane, const BgpOptions& options) {
  BgpPlan out;
  for (const auto& intent : compiled.bgp_peers) {
    BgpPeerPlan p;
    p.connection = intent.connection;
    auto& peer = p.peer;
    peer.name = peer_name(intent.connection);
    peer.local_asn = intent.local_asn;
    peer.peer_asn = intent.peer_asn;
    peer.peer_address = intent.peer_address;
    peer.local_address = intent.local_address;
    peer.multihop = intent.multihop;
    peer.hold_time_seconds = intent.hold_time_seconds;
    peer.keepalive_seconds = intent.keepalive_seconds;
    // With APIPA addresses Azure never opens the session.
    peer.must_initiate = intent.apipa;
    peer.export_prefixes = intent.export_prefixes;
    peer.vnet_prefixes = intent.vnet_prefixes;
    peer.password = intent.password;
    peer.kernel_table = options.kernel_table;
    peer.backup = intent.preference != 0;
    uint32_t if_id = intent.if_id;
    for (const auto& plan : plans) {
      if (plan.name != intent.connection) continue;
      if_id = plan.if_id;
      p.children = plan.children;
      if (auto remote = IpAddress::parse(plan.remote)) out.underlay_addresses.push_back(*remote);
    }
    peer.tunnel_interface = tunnel_device(data_plane, if_id);
    out.peers.push_back(std::move(p));
  }
  if (out.peers.empty()) return out;
  out.config.router_id = out.peers.front().peer.local_address;
  out.config.log_file = options.bird_dir + "/bird.log";
  for (const auto& p : out.peers) out.config.peers.push_back(p.peer);
  // Azure's BGP rules ran when the configuration was loaded; this checks
  // only what BIRD needs, with the connection's name on every finding.
  Diagnostics diagnostics;
  routing::validate_config(out.config, diagnostics, [&](const routing::BgpPeer& peer) {
    for (const auto& p : out.peers) {
      if (p.peer.name == peer.name) return "connection \"" + p.connection + "\" bgp";
    }
    return routing::default_peer_path(peer);
  });
  if (diagnostics.has_errors()) return Error{diagnostics.format_errors()};
  out.text = routing::render_bird_config(out.config);
  return out;
}

void add_bgp_host_routes(const BgpPlan& bgp, std::vector<ConnectionPlan>& plans) {
  for (const auto& p : bgp.peers) {
    for (auto& plan : plans) {
      if (plan.name == p.connection) plan.routes.push_back(IpPrefix(p.peer.peer_address, 32));
    }
  }
}

namespace {

routing::BirdDaemonOptions bird_options(const BgpOptions& options) {
  routing::BirdDaemonOptions o;
  o.bird_binary = options.bird_binary;
  o.config_path = options.bird_dir + "/bird.conf";
  o.socket_path = options.bird_dir + "/bird.ctl";
  o.pid_path = options.bird_dir + "/bird.pid";
  o.output_path = options.bird_dir + "/bird.out";
  // A BIRD left behind by an ergwd that died holds our socket: it leaves.
  o.stale = routing::StaleBird::shut_down;
  o.restart_backoff = options.bird_restart_backoff;
  o.client.command_timeout = options.bird_command_timeout;
  return o;
}

std::string seconds_text(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

struct BgpController::Waiter {
  Report done;
  std::unique_ptr<Timer> deadline;
  std::chrono::milliseconds limit{};
};

BgpController::BgpController(BgpEnvironment environment, BgpOptions options)
    : executor_(environment.executor),
      clock_(environment.clock),
      network_(environment.network),
      charon_(environment.charon),
      options_(std::move(options)),
      bird_(environment.executor, environment.clock, environment.launcher, bird_options(options_)),
      tick_timer_(environment.clock.make_timer()),
      check_timer_(environment.clock.make_timer()) {
  bird_.on_running([this](pid_t pid) { bird_running(pid); });
  bird_.on_down([this](const std::string& why) { bird_down(why); });
  bird_.on_diagnostic([](const std::string& text) { log_line(LogLevel::warning, text); });
  tick();
}

BgpController::~BgpController() {
  *alive_ = false;
  if (bird_.pid() > 0) log_line(LogLevel::info, "stopping BIRD (pid " + std::to_string(bird_.pid()) + ")");
  // bird_'s destructor ends BIRD (SIGTERM, then SIGKILL): ergwd is exiting.
}

void BgpController::start_bird() {
  std::error_code ec;
  std::filesystem::create_directories(options_.bird_dir, ec);
  ::chmod(options_.bird_dir.c_str(), 0700);
  // BIRD starts on the current plan; later changes go through configure.
  if (Status written = routing::write_config_file(path("bird.conf"), plan_.text); !written) {
    if (bird_error_ != written.error()) log_line(LogLevel::error, "cannot start BIRD: " + written.error());
    bird_error_ = written.error();
    return;
  }
  applied_text_ = plan_.text;
  refused_text_.clear();
  bird_.start();
}

void BgpController::bird_running(pid_t pid) {
  log_line(LogLevel::info, "BIRD running (pid " + std::to_string(pid) + ", socket " + path("bird.ctl") + ")");
  bird_error_.clear();
  // A fresh BIRD runs every protocol of its file enabled; send each wanted
  // state again rather than guess.
  forget_confirmed_states();
  reconcile_config();
  check_tunnels();
}

void BgpController::bird_down(const std::string& why) {
  if (bird_error_ != why) log_line(LogLevel::warning, why);
  bird_error_ = why;
  forget_confirmed_states();
  // Its sessions and routes went with it; a restarted BIRD reports afresh.
  snapshot_ = Snapshot{};
  publish_learned({});
}

void BgpController::forget_confirmed_states() {
  confirmed_.clear();
  in_flight_.clear();
}

void BgpController::sync_host_network() {
  std::set<PolicyRule> wanted;
  if (!plan_.peers.empty()) {
    // IKE and ESP to Azure's tunnel address take the underlay (main) even
    // when a learned prefix covers it, as with S2S over ExpressRoute private
    // peering where that address is a VNet address.
    for (const auto& a : plan_.underlay_addresses) {
      if (a.is_v4()) wanted.insert({options_.underlay_rule_priority, 254, IpPrefix(a, 32)});
    }
    wanted.insert({options_.table_rule_priority, options_.kernel_table, std::nullopt});
  }
  for (const auto& rule : wanted) {
    auto s = network_.add_rule(rule);
    if (!s) log_line(LogLevel::error, s.error());
    else if (!rules_.count(rule)) log_line(LogLevel::info, "ip rule: " + std::string(rule.to ? "to " + rule.to->to_string() + " " : "") +
                                               "lookup " + std::to_string(rule.table) + " priority " +
                                               std::to_string(rule.priority));
  }
  for (const auto& rule : rules_) {
    if (!wanted.count(rule)) (void)network_.delete_rule(rule);
  }
  rules_ = wanted;
  std::set<IpAddress> local;
  for (const auto& p : plan_.peers) local.insert(p.peer.local_address);
  for (const auto& a : local) {
    bool added = false;
    auto s = network_.ensure_address_on_loopback(a, added);
    if (!s) log_line(LogLevel::error, "BGP address: " + s.error());
    if (added) {
      added_addresses_.insert(a);
      log_line(LogLevel::info, "BGP address " + a.to_string() + "/32 added to lo");
    }
  }
  for (auto it = added_addresses_.begin(); it != added_addresses_.end();) {
    if (local.count(*it)) {
      ++it;
      continue;
    }
    (void)network_.remove_address_from_loopback(*it);
    it = added_addresses_.erase(it);
  }
}

void BgpController::apply(BgpPlan plan) {
  plan_ = std::move(plan);
  sync_host_network();
  if (std::any_of(plan_.peers.begin(), plan_.peers.end(), [](const auto& p) { return p.peer.password.has_value(); })) {
    // BIRD needs the kernel to sign the session's segments (RFC 2385).
    if (const auto md5 = probe_tcp_md5(); !md5.present) {
      log_line(LogLevel::error, "a BGP password is set, but this kernel cannot sign TCP segments (" + md5.evidence +
                                    "): the session will not come up");
    }
  }
  // Sessions of peers that are gone are BIRD's to drop with the new config.
  std::set<std::string> protocols;
  for (const auto& p : plan_.peers) protocols.insert(routing::protocol_name(p.peer));
  std::erase_if(wanted_, [&](const auto& entry) { return !protocols.count(entry.first); });
  std::erase_if(confirmed_, [&](const auto& entry) { return !protocols.count(entry.first); });
  if (plan_.peers.empty()) {
    if (bird_.state() != routing::BirdDaemon::State::stopped) {
      log_line(LogLevel::info, "no connection enables BGP any more; stopping BIRD");
      bird_.stop();
    }
    tunnel_up_.clear();
    forget_confirmed_states();
    bird_error_.clear();
    snapshot_ = Snapshot{};
    publish_learned({});
    return;
  }
  using State = routing::BirdDaemon::State;
  if (bird_.state() == State::stopped || bird_.state() == State::failed) {
    start_bird();
  } else {
    // Running: configure now; starting or restarting: once it greets.
    reconcile_config();
  }
  check_tunnels();
}

void BgpController::reconcile_config() {
  if (!bird_.running() || config_in_flight_ || plan_.peers.empty()) return;
  if (plan_.text == applied_text_ || plan_.text == refused_text_) return;
  config_in_flight_ = true;
  const std::string text = plan_.text;
  routing::install_config(bird_.client(), path("bird.conf"), text, std::nullopt,
                          [this, text](routing::ConfigOutcome outcome) {
                            config_in_flight_ = false;
                            switch (outcome.verdict) {
                              case routing::ConfigVerdict::applied:
                                applied_text_ = text;
                                bird_error_.clear();
                                log_line(LogLevel::info, "BIRD reconfigured (configure check, configure)");
                                // New protocols start enabled: send the wanted states again.
                                forget_confirmed_states();
                                sync_sessions();
                                reconcile_config();  // the plan may have moved on meanwhile
                                return;
                              case routing::ConfigVerdict::refused:
                                refused_text_ = text;
                                bird_error_ = "BIRD kept its running configuration: " + outcome.message;
                                log_line(LogLevel::error, bird_error_);
                                return;
                              case routing::ConfigVerdict::bird_not_answering:
                              case routing::ConfigVerdict::not_written:
                                // Tried again on the next tick.
                                if (bird_error_ != outcome.message) {
                                  log_line(LogLevel::warning, "BIRD not reconfigured yet: " + outcome.message);
                                }
                                bird_error_ = outcome.message;
                                return;
                            }
                          });
}

void BgpController::tick() {
  tick_timer_->start(options_.supervise_interval, [this] {
    if (!plan_.peers.empty()) {
      using State = routing::BirdDaemon::State;
      if (bird_.state() == State::failed || bird_.state() == State::stopped) {
        start_bird();
      } else if (bird_.running()) {
        reconcile_config();
        sync_sessions();
        if (clock_.now() - last_tunnel_check_ >= options_.tunnel_check_interval) check_tunnels();
        const bool stale = !snapshot_.taken_at || clock_.now() - *snapshot_.taken_at >= options_.route_refresh_interval;
        if (stale && !refresh_in_flight_) refresh();
      }
    }
    tick();
  });
}

void BgpController::tunnel_event(const std::string& name, const vici::Message& message) {
  if (plan_.peers.empty()) return;
  auto event = vici::parse_updown_event(message);
  if (!event) return;
  bool ours = false;
  for (const auto& p : plan_.peers) ours = ours || p.connection == event->ike_sa.name;
  if (!ours) return;
  if (!event->up) {
    // Withdraw at once: BIRD would otherwise keep the learned routes for up
    // to 180 s of hold time, pointing into a tunnel that is gone.
    for (const auto& p : plan_.peers) {
      if (p.connection != event->ike_sa.name) continue;
      if (tunnel_up_[p.connection]) log_connection(LogLevel::info, p.connection, name + " down; disabling its BGP session");
      tunnel_up_[p.connection] = false;
      want(p, routing::ProtocolSwitch::disable);
    }
    sync_sessions();
  }
  // Confirm from charon's SA list (a rekey collision also says "down").
  check_timer_->start(std::chrono::milliseconds(event->up ? 200 : 1000), [this] { check_tunnels(); });
}

void BgpController::check_tunnels() {
  if (plan_.peers.empty() || !charon_.connected()) return;
  last_tunnel_check_ = clock_.now();
  vici::list_sas(charon_, {}, [this, alive = std::weak_ptr<bool>(alive_)](Result<std::vector<vici::IkeSaInfo>> sas) {
    auto token = alive.lock();
    if (!token || !*token) return;
    if (!sas) {
      log_line(LogLevel::debug, "BGP: cannot read the tunnels from charon: " + sas.error());
      return;
    }
    for (const auto& p : plan_.peers) {
      const bool up = observe_tunnel(p.connection, p.children, sas.value()).up();
      auto known = tunnel_up_.find(p.connection);
      if (known == tunnel_up_.end() || known->second != up) {
        log_connection(LogLevel::info, p.connection, std::string("tunnel ") + (up ? "up; enabling" : "down; disabling") +
                                     " its BGP session");
      }
      tunnel_up_[p.connection] = up;
      want(p, up ? routing::ProtocolSwitch::enable : routing::ProtocolSwitch::disable);
    }
    sync_sessions();
  });
}

void BgpController::want(const BgpPeerPlan& peer, routing::ProtocolSwitch change) {
  wanted_[routing::protocol_name(peer.peer)] = change;
}

void BgpController::sync_sessions() {
  if (!bird_.running() || config_in_flight_) return;
  for (const auto& entry : wanted_) {
    // Named copies: the callback below outlives the loop.
    const std::string protocol = entry.first;
    const routing::ProtocolSwitch wanted = entry.second;
    const auto confirmed = confirmed_.find(protocol);
    if (confirmed != confirmed_.end() && confirmed->second == wanted) continue;
    // One command per protocol in flight; its answer sends the next if needed.
    if (in_flight_.count(protocol)) continue;
    in_flight_[protocol] = wanted;
    routing::switch_protocol(bird_.client(), protocol, wanted, [this, protocol, wanted](Status s) {
      const auto sent = in_flight_.find(protocol);
      if (sent == in_flight_.end() || sent->second != wanted) return;  // BIRD restarted meanwhile
      in_flight_.erase(sent);
      if (!s) {
        // Not known either way (BIRD may yet run it): asked again next tick.
        confirmed_.erase(protocol);
        if (s.error() != session_error_) log_line(LogLevel::warning, s.error() + "; trying again");
        session_error_ = s.error();
        return;
      }
      if (!session_error_.empty()) log_line(LogLevel::info, "BIRD answers again: " + std::string(to_string(wanted)) + " " + protocol);
      session_error_.clear();
      confirmed_[protocol] = wanted;
      sync_sessions();
    });
  }
}

void BgpController::report(std::chrono::milliseconds deadline, Report done) {
  auto waiter = std::make_unique<Waiter>();
  waiter->done = std::move(done);
  waiter->limit = deadline;
  if (plan_.peers.empty() || !bird_.running()) {
    // Nothing to ask: answer from what is known, through the executor.
    boost::asio::post(executor_, [this, alive = std::weak_ptr<bool>(alive_), done = std::move(waiter->done)] {
      auto token = alive.lock();
      if (token && *token) done(status_json(BirdAnswer::not_answered));
    });
    return;
  }
  waiter->deadline = clock_.make_timer();
  Waiter* raw = waiter.get();
  waiter->deadline->start(deadline, [this, raw] { answer(*raw, BirdAnswer::not_answered); });
  waiters_.push_back(std::move(waiter));
  if (!refresh_in_flight_) refresh();
}

// One round of queries; every status request that arrives meanwhile waits for
// the same round instead of queueing its own behind a BIRD that may be stuck.
void BgpController::refresh() {
  refresh_in_flight_ = true;
  const uint64_t generation = ++refresh_generation_;
  auto fresh = std::make_shared<Snapshot>();
  auto pending = std::make_shared<size_t>(2 + plan_.peers.size());
  auto first_error = std::make_shared<std::string>();
  auto finish = [this, generation, fresh, pending, first_error](const std::string& error) {
    if (!error.empty() && first_error->empty()) *first_error = error;
    if (--*pending != 0 || generation != refresh_generation_) return;
    if (first_error->empty()) {
      fresh->taken_at = clock_.now();
      read_logged_errors(*fresh);
      snapshot_ = std::move(*fresh);
    }
    refresh_done(*first_error);
  };
  routing::query_status(bird_.client(), [fresh, finish](Result<routing::DaemonStatus> r) {
    if (r) fresh->daemon = std::move(r.value());
    finish(r ? "" : r.error());
  });
  routing::query_protocols(bird_.client(), "ergw_*", [fresh, finish](Result<std::vector<routing::ProtocolStatus>> r) {
    if (r) fresh->protocols = std::move(r.value());
    finish(r ? "" : r.error());
  });
  for (const auto& p : plan_.peers) {
    routing::RouteQuery q;
    q.protocol = routing::protocol_name(p.peer);
    q.all = true;  // the attributes tell which routes `merge paths` joins
    routing::query_routes(bird_.client(), q, [fresh, finish, protocol = q.protocol](Result<std::vector<routing::Route>> r) {
      if (r) fresh->routes[protocol] = std::move(r.value());
      finish(r ? "" : r.error());
    });
  }
}

void BgpController::read_logged_errors(Snapshot& snapshot) const {
  // The snapshot is refreshed every few seconds and BIRD keeps a session's
  // last error after it recovers: the log is read only for an error not seen
  // in the previous snapshot (another error, or the same one again later).
  auto known = [&](const routing::ProtocolStatus& proto) -> const std::string* {
    const auto logged = snapshot_.logged_errors.find(proto.name);
    if (logged == snapshot_.logged_errors.end()) return nullptr;
    for (const auto& before : snapshot_.protocols) {
      if (before.name == proto.name && before.bgp && before.bgp->last_error == proto.bgp->last_error &&
          before.since == proto.since) {
        return &logged->second;
      }
    }
    return nullptr;
  };
  std::string log;
  bool log_read = false;
  for (const auto& proto : snapshot.protocols) {
    if (!proto.bgp || proto.bgp->last_error.empty()) continue;
    if (const std::string* before = known(proto)) {
      snapshot.logged_errors[proto.name] = *before;
      continue;
    }
    if (!log_read) {
      log = routing::read_log_tail(path("bird.log"));
      log_read = true;
    }
    // BIRD's own text when the log has no line for it (rotated away).
    snapshot.logged_errors[proto.name] =
        routing::logged_session_error(log, proto.name, proto.bgp->last_error).value_or(proto.bgp->last_error);
  }
}

void BgpController::refresh_done(std::string error) {
  refresh_in_flight_ = false;
  snapshot_.error = std::move(error);
  if (snapshot_.error.empty()) {
    // A session has a prefix when BIRD selected its route, or a route equal
    // to the selected one (the kernel protocol's `merge paths` joins them:
    // both sessions of an active-active gateway, ECMP).
    std::map<IpPrefix, const routing::Route*> selected;
    for (const auto& [protocol, routes] : snapshot_.routes) {
      for (const auto& r : routes) {
        if (r.primary && r.destination == "unicast") selected[r.prefix] = &r;
      }
    }
    LearnedRoutes learned;
    for (const auto& p : plan_.peers) {
      const auto routes = snapshot_.routes.find(routing::protocol_name(p.peer));
      if (routes == snapshot_.routes.end()) continue;
      for (const auto& r : routes->second) {
        const auto best = selected.find(r.prefix);
        if (best == selected.end()) continue;
        if (best->second == &r || routing::mergeable_with(*best->second, r)) learned[p.connection].insert(r.prefix);
      }
    }
    publish_learned(std::move(learned));
  }
  std::vector<std::unique_ptr<Waiter>> waiting = std::move(waiters_);
  waiters_.clear();
  for (auto& waiter : waiting) {
    answer(*waiter, snapshot_.error.empty() ? BirdAnswer::answered : BirdAnswer::not_answered);
  }
}

void BgpController::publish_learned(LearnedRoutes learned) {
  std::erase_if(learned, [](const auto& entry) { return entry.second.empty(); });
  if (learned == learned_) return;
  learned_ = std::move(learned);
  if (on_learned_) on_learned_(learned_);
}

void BgpController::answer(Waiter& waiter, BirdAnswer bird) {
  if (!waiter.done) return;
  Report done = std::move(waiter.done);
  waiter.done = nullptr;
  nlohmann::json out = status_json(bird);
  if (bird == BirdAnswer::not_answered && bird_.running() && snapshot_.error.empty()) {
    out["bird"]["error"] = "BIRD did not answer within " + std::to_string(waiter.limit.count()) +
                           " ms (stopped or overloaded?)";
  }
  // The waiter may be answered by its deadline while its round still runs.
  std::erase_if(waiters_, [&](const auto& w) { return w.get() == &waiter; });
  done(std::move(out));
}

nlohmann::json BgpController::status_json(BirdAnswer bird) const {
  nlohmann::json out;
  out["enabled"] = !plan_.peers.empty();
  if (plan_.peers.empty()) return out;
  out["table"] = options_.kernel_table;
  out["bird"] = {{"running", bird_.running()},
                 {"state", routing::to_string(bird_.state())},
                 {"answering", bird == BirdAnswer::answered},
                 {"pid", bird_.pid()},
                 {"restarts", bird_.restarts()},
                 {"socket", path("bird.ctl")},
                 {"config", path("bird.conf")}};
  if (!bird_error_.empty()) out["bird"]["error"] = bird_error_;
  else if (!snapshot_.error.empty()) out["bird"]["error"] = snapshot_.error;
  if (snapshot_.taken_at && bird == BirdAnswer::not_answered) {
    out["bird"]["data_age_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - *snapshot_.taken_at).count();
    out["bird"]["note"] = "sessions and routes as BIRD reported them " + seconds_text(clock_.now() - *snapshot_.taken_at) + " ago";
  }
  out["sessions"] = nlohmann::json::array();
  out["routes"] = nlohmann::json::array();
  std::optional<std::optional<TcpMd5Drops>> md5_drops;  // read once, when a session needs it
  for (const auto& p : plan_.peers) {
    const auto name = routing::protocol_name(p.peer);
    const auto tunnel = tunnel_up_.find(p.connection);
    nlohmann::json s = {{"connection", p.connection},
                        {"protocol", name},
                        {"local", p.peer.local_address.to_string()},
                        {"local_as", p.peer.local_asn},
                        {"neighbor", p.peer.peer_address.to_string()},
                        {"neighbor_as", p.peer.peer_asn},
                        {"tunnel_up", tunnel != tunnel_up_.end() && tunnel->second},
                        {"state", "unknown"}};
    const auto confirmed = confirmed_.find(name);
    const bool disabled = confirmed != confirmed_.end() && confirmed->second == routing::ProtocolSwitch::disable;
    for (const auto& proto : snapshot_.protocols) {
      if (proto.name != name) continue;
      s["protocol_state"] = routing::to_string(proto.state);
      s["state"] = disabled ? "Disabled" : (proto.bgp ? routing::to_string(proto.bgp->state) : proto.info);
      s["since"] = proto.since;
      if (snapshot_.daemon) {
        if (auto in_state = routing::time_in_state(proto, *snapshot_.daemon)) {
          s["in_state_seconds"] = in_state->count();
          if (proto.bgp && proto.bgp->state == routing::BgpState::kEstablished) s["uptime_seconds"] = in_state->count();
        }
      }
      if (proto.bgp) {
        const auto logged = snapshot_.logged_errors.find(name);
        s["last_error"] = logged != snapshot_.logged_errors.end() ? logged->second : proto.bgp->last_error;
        const std::string hint =
            explain_session_error(s["last_error"].get<std::string>(), {p.peer.local_asn, p.peer.peer_asn});
        if (!hint.empty()) s["last_error_hint"] = hint;
        if (proto.bgp->error_wait_left) {
          s["error_wait_seconds"] = *proto.bgp->error_wait_left;
          if (proto.bgp->error_wait) s["error_wait"] = *proto.bgp->error_wait;
        }
        if (proto.bgp->hold_time) s["hold_time"] = *proto.bgp->hold_time;
        if (proto.bgp->keepalive_time) s["keepalive_time"] = *proto.bgp->keepalive_time;
      }
      if (const auto* ch = proto.channel("ipv4"); ch && ch->routes) {
        s["prefixes_in"] = ch->routes->imported;
        s["prefixes_out"] = ch->routes->exported;
        s["prefixes_filtered"] = ch->routes->filtered;
      } else {
        s["prefixes_in"] = 0;
        s["prefixes_filtered"] = 0;
        s["prefixes_out"] = 0;
      }
    }
    if (disabled && !s.contains("last_error")) s["last_error"] = "";
    if (disabled) s["note"] = "tunnel down: session disabled, its routes withdrawn";
    if (p.peer.password) s["tcp_md5"] = true;
    // A session that does not come up with a TCP MD5 password involved: BIRD
    // only sees timeouts, the kernel's drop counters say why.
    if (!disabled && s["tunnel_up"].get<bool>() && s["state"] != "Established" && s["state"] != "unknown") {
      if (!md5_drops) md5_drops = read_tcp_md5_drops();
      const std::string why = explain_tcp_md5(p.peer.password.has_value(), *md5_drops);
      if (!why.empty()) s[s.contains("last_error_hint") ? "tcp_md5_hint" : "last_error_hint"] = why;
    }
    out["sessions"].push_back(std::move(s));
    const auto routes = snapshot_.routes.find(name);
    if (routes == snapshot_.routes.end()) continue;
    for (const auto& r : routes->second) {
      nlohmann::json j = {{"prefix", r.prefix.to_string()},
                          {"protocol", r.protocol},
                          {"connection", p.connection},
                          {"primary", r.primary},
                          {"installed", r.primary && !r.sync_error},
                          {"as_path", r.as_path_summary}};
      if (!r.next_hops.empty()) {
        if (r.next_hops.front().gateway) j["via"] = r.next_hops.front().gateway->to_string();
        j["device"] = r.next_hops.front().interface;
      }
      out["routes"].push_back(std::move(j));
    }
  }
  return out;
}

}  // namespace ergw::gateway
