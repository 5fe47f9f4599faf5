#include "gateway/ergwd/bgp_controller.h"

#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <thread>

#include "gateway/ergwd/log.h"
#include "routing/bird_config_writer.h"
#include "routing/bird_queries.h"
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

bool is_apipa(const IpAddress& a) { return a.is_v4() && a.bytes()[0] == 169 && a.bytes()[1] == 254; }

// "peers[azure_hub].local_asn" -> the connection's name, for the operator.
std::string for_connection(const routing::Diagnostic& d, const std::vector<BgpPeerPlan>& peers) {
  for (const auto& p : peers) {
    if (d.field.rfind("peers[" + p.peer.name + "]", 0) == 0) return "connection \"" + p.connection + "\": bgp: " + d.to_string();
  }
  return "bgp: " + d.to_string();
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
    // With APIPA addresses Azure never opens the session (azure.md §4).
    peer.must_initiate = intent.apipa || is_apipa(intent.peer_address) || is_apipa(intent.local_address);
    peer.export_prefixes = intent.export_prefixes;
    peer.vnet_prefixes = intent.vnet_prefixes;
    peer.expressroute_prefixes = intent.express_route_prefixes;
    peer.kernel_table = options.kernel_table;
    uint32_t if_id = intent.if_id;
    for (const auto& plan : plans) {
      if (plan.name != intent.connection) continue;
      if_id = plan.if_id;
      if (auto remote = IpAddress::parse(plan.remote)) out.underlay_addresses.push_back(*remote);
    }
    peer.tunnel_interface = tunnel_device(data_plane, if_id);
    out.peers.push_back(std::move(p));
  }
  if (out.peers.empty()) return out;
  out.config.router_id = out.peers.front().peer.local_address;
  out.config.log_file = options.bird_dir + "/bird.log";
  for (const auto& p : out.peers) out.config.peers.push_back(p.peer);
  const auto diagnostics = routing::validate_config(out.config, {options.strict_expressroute});
  std::string errors;
  for (const auto& d : diagnostics) {
    if (d.severity == routing::Diagnostic::Severity::kError) {
      errors += (errors.empty() ? "" : "\n") + for_connection(d, out.peers);
    } else {
      out.warnings.push_back(d);
    }
  }
  if (!errors.empty()) return Error{errors};
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

BgpController::BgpController(boost::asio::io_context& io, vici::Client& client, BgpOptions options)
    : client_(client), options_(std::move(options)), timer_(io), check_timer_(io) {
  supervise();
}

BgpController::~BgpController() { stop_bird(); }

void BgpController::stop_stale_bird() {
  // A BIRD left behind by an ergwd that died answers on our socket; ask it to
  // leave (`down`), or the new one could not bind the socket.
  auto socket = routing::ControlSocket::connect(path("bird.ctl"), std::chrono::milliseconds(1000));
  if (!socket) return;
  log_line(LogLevel::warning, "a BIRD from an earlier ergwd answers on " + path("bird.ctl") + "; shutting it down");
  (void)socket.value().command("down");
  for (int i = 0; i < 50; ++i) {
    if (!routing::ControlSocket::connect(path("bird.ctl"), std::chrono::milliseconds(200))) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status BgpController::start_bird() {
  std::error_code ec;
  std::filesystem::create_directories(options_.bird_dir, ec);
  ::chmod(options_.bird_dir.c_str(), 0700);
  if (auto s = routing::write_config_file(path("bird.conf"), plan_.text); !s) {
    bird_error_ = s.error();
    return s;
  }
  stop_stale_bird();
  routing::BirdProcessOptions o;
  o.bird_binary = options_.bird_binary;
  o.config_path = path("bird.conf");
  o.socket_path = path("bird.ctl");
  o.pid_path = path("bird.pid");
  o.output_path = path("bird.out");
  auto bird = routing::BirdProcess::start(o);
  if (!bird) {
    if (bird_error_ != bird.error()) log_line(LogLevel::error, "cannot start BIRD: " + bird.error());
    bird_error_ = bird.error();
    return Error{bird.error()};
  }
  bird_.emplace(std::move(bird.value()));
  bird_error_.clear();
  // A fresh BIRD runs every protocol of its config: enabled.
  enabled_.clear();
  for (const auto& p : plan_.peers) enabled_[routing::protocol_name(p.peer)] = true;
  log_line(LogLevel::info, "BIRD running (pid " + std::to_string(bird_->pid()) + ", socket " + path("bird.ctl") + ")");
  return Status::success();
}

void BgpController::stop_bird() {
  if (!bird_) return;
  log_line(LogLevel::info, "stopping BIRD (pid " + std::to_string(bird_->pid()) + ")");
  (void)bird_->stop(std::chrono::milliseconds(3000));
  bird_.reset();
  enabled_.clear();
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
    auto s = add_rule(rule);
    if (!s) log_line(LogLevel::error, s.error());
    else if (!rules_.count(rule)) log_line(LogLevel::info, "ip rule: " + std::string(rule.to ? "to " + rule.to->to_string() + " " : "") +
                                               "lookup " + std::to_string(rule.table) + " priority " +
                                               std::to_string(rule.priority));
  }
  for (const auto& rule : rules_) {
    if (!wanted.count(rule)) (void)delete_rule(rule);
  }
  rules_ = wanted;
  std::set<IpAddress> local;
  for (const auto& p : plan_.peers) local.insert(p.peer.local_address);
  for (const auto& a : local) {
    bool added = false;
    auto s = ensure_address_on_loopback(a, added);
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
    (void)remove_address_from_loopback(*it);
    it = added_addresses_.erase(it);
  }
}

void BgpController::apply(BgpPlan plan) {
  plan_ = std::move(plan);
  for (const auto& w : plan_.warnings) log_line(LogLevel::warning, for_connection(w, plan_.peers));
  sync_host_network();
  if (plan_.peers.empty()) {
    if (bird_) log_line(LogLevel::info, "no connection enables BGP any more");
    stop_bird();
    tunnel_up_.clear();
    return;
  }
  if (!bird_ || !bird_->running()) {
    bird_.reset();
    (void)start_bird();
  } else {
    auto socket = bird_->connect();
    Status s = socket ? routing::install_config(socket.value(), path("bird.conf"), plan_.text)
                      : Status(Error{socket.error()});
    if (s) {
      bird_error_.clear();
      log_line(LogLevel::info, "BIRD reconfigured (configure check, configure)");
    } else {
      bird_error_ = s.error();
      log_line(LogLevel::error, "BIRD kept its running configuration: " + s.error());
    }
  }
  check_tunnels(true);
}

void BgpController::supervise() {
  timer_.expires_after(options_.supervise_interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (!plan_.peers.empty()) {
      if (bird_ && !bird_->running()) {
        log_line(LogLevel::warning, "BIRD exited; restarting it with the last good configuration");
        bird_.reset();
        ++bird_restarts_;
        if (start_bird()) check_tunnels(true);
      } else if (!bird_) {
        if (start_bird()) check_tunnels(true);
      } else if (++ticks_ % 5 == 0) {
        check_tunnels(false);
      }
    }
    supervise();
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
      if (tunnel_up_[p.connection]) log_line(LogLevel::info, p.connection + ": " + name + " down; disabling its BGP session");
      tunnel_up_[p.connection] = false;
      set_enabled(routing::protocol_name(p.peer), false, false);
    }
  }
  // Confirm from charon's SA list (a rekey collision also says "down").
  check_timer_.expires_after(std::chrono::milliseconds(event->up ? 200 : 1000));
  check_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_tunnels(false);
  });
}

void BgpController::check_tunnels(bool force) {
  if (plan_.peers.empty() || !client_.connected()) return;
  vici::list_sas(client_, {}, [this, force](Result<std::vector<vici::IkeSaInfo>> sas) {
    if (!sas) return;
    for (const auto& p : plan_.peers) {
      bool up = false;
      for (const auto& sa : sas.value()) {
        if (sa.name != p.connection || sa.state != "ESTABLISHED") continue;
        for (const auto& child : sa.child_sas) up = up || child.state == "INSTALLED";
      }
      auto known = tunnel_up_.find(p.connection);
      if (known == tunnel_up_.end() || known->second != up) {
        log_line(LogLevel::info, p.connection + ": tunnel " + (up ? "up; enabling" : "down; disabling") +
                                     " its BGP session");
      }
      tunnel_up_[p.connection] = up;
      set_enabled(routing::protocol_name(p.peer), up, force);
    }
  });
}

void BgpController::set_enabled(const std::string& protocol, bool enabled, bool force) {
  if (!bird_) return;
  auto known = enabled_.find(protocol);
  if (!force && known != enabled_.end() && known->second == enabled) return;
  auto socket = bird_->connect(std::chrono::milliseconds(3000));
  if (!socket) {
    log_line(LogLevel::warning, "BIRD control socket: " + socket.error());
    enabled_.erase(protocol);
    return;
  }
  auto reply = socket.value().command((enabled ? "enable " : "disable ") + protocol);
  if (!reply || reply.value().is_error()) {
    log_line(LogLevel::warning, (enabled ? "enable " : "disable ") + protocol + " failed" +
                                    (reply ? "" : ": " + reply.error()));
    enabled_.erase(protocol);
    return;
  }
  enabled_[protocol] = enabled;
}

nlohmann::json BgpController::status() {
  nlohmann::json out;
  out["enabled"] = !plan_.peers.empty();
  if (plan_.peers.empty()) return out;
  out["table"] = options_.kernel_table;
  out["bird"] = {{"running", bird_.has_value() && bird_->running()},
                 {"pid", bird_ ? bird_->pid() : 0},
                 {"restarts", bird_restarts_},
                 {"socket", path("bird.ctl")},
                 {"config", path("bird.conf")}};
  if (!bird_error_.empty()) out["bird"]["error"] = bird_error_;
  out["sessions"] = nlohmann::json::array();
  out["routes"] = nlohmann::json::array();
  std::optional<routing::ControlSocket> socket;
  if (bird_) {
    auto s = bird_->connect(std::chrono::milliseconds(3000));
    if (s) socket.emplace(std::move(s.value()));
    else out["bird"]["error"] = s.error();
  }
  std::vector<routing::ProtocolStatus> protocols;
  std::optional<routing::DaemonStatus> daemon;
  if (socket) {
    if (auto d = routing::query_status(*socket)) daemon = d.value();
    if (auto p = routing::query_protocols(*socket, "ergw_*")) protocols = p.value();
  }
  for (const auto& p : plan_.peers) {
    const auto name = routing::protocol_name(p.peer);
    nlohmann::json s = {{"connection", p.connection},
                        {"protocol", name},
                        {"local", p.peer.local_address.to_string()},
                        {"local_as", p.peer.local_asn},
                        {"neighbor", p.peer.peer_address.to_string()},
                        {"neighbor_as", p.peer.peer_asn},
                        {"tunnel_up", tunnel_up_.count(p.connection) ? tunnel_up_[p.connection] : false},
                        {"state", "unknown"}};
    auto e = enabled_.find(name);
    const bool disabled = e != enabled_.end() && !e->second;
    for (const auto& proto : protocols) {
      if (proto.name != name) continue;
      s["protocol_state"] = routing::to_string(proto.state);
      s["state"] = disabled ? "Disabled" : (proto.bgp ? routing::to_string(proto.bgp->state) : proto.info);
      s["since"] = proto.since;
      if (daemon) {
        if (auto up = routing::uptime(proto, *daemon)) s["uptime_seconds"] = up->count();
      }
      if (proto.bgp) {
        s["last_error"] = proto.bgp->last_error;
        if (proto.bgp->hold_time) s["hold_time"] = *proto.bgp->hold_time;
        if (proto.bgp->keepalive_time) s["keepalive_time"] = *proto.bgp->keepalive_time;
      }
      if (const auto* ch = proto.channel("ipv4"); ch && ch->routes) {
        s["prefixes_in"] = ch->routes->imported;
        s["prefixes_out"] = ch->routes->exported;
        s["prefixes_filtered"] = ch->routes->filtered;
      } else {
        s["prefixes_in"] = 0;
        s["prefixes_out"] = 0;
      }
    }
    if (disabled && !s.contains("last_error")) s["last_error"] = "";
    if (disabled) s["note"] = "tunnel down: session disabled, its routes withdrawn";
    out["sessions"].push_back(std::move(s));
    if (!socket) continue;
    routing::RouteQuery q;
    q.protocol = name;
    q.all = false;
    auto routes = routing::query_routes(*socket, q);
    if (!routes) continue;
    for (const auto& r : routes.value()) {
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
