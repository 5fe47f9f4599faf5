#include "tests/gateway/api/fake_backend.h"

#include "gateway/api/problem.h"
#include "gateway/policy/azure_enums.h"

namespace ergw::api::testing {

FakeBackend::FakeBackend(boost::asio::io_context& io, SnapshotBoard& board, FakeBackendOptions options)
    : io_(io), board_(board), options_(options), timer_(io) {
  publish();
  tick();
}

void FakeBackend::check(const policy::ApplianceConfig& config, Diagnostics& diagnostics) {
  for (const auto& spec : config.connections) {
    if (spec.name == "daemon-refuses") {
      diagnostics.error(spec.source_path + ".name", "refused by the daemon's own check (test marker)");
    }
  }
}

void FakeBackend::apply(const policy::ApplianceConfig& config, std::function<void(ApplyResult)> done) {
  ++applies_;
  ApplyResult result;
  std::map<std::string, Tunnel> next;
  for (const auto& spec : config.connections) {
    Tunnel t;
    t.key = spec.azure.shared_key.reveal();
    t.remote = spec.gateway.tunnel_ip_addresses.empty() ? "%any" : spec.gateway.tunnel_ip_addresses[0].to_string();
    t.mode = std::string(policy::enum_name(spec.azure.connection_mode));
    t.dials = spec.azure.connection_mode != policy::ConnectionMode::InitiatorOnly;
    t.fingerprint = t.key + "|" + t.remote + "|" + t.mode + "|" + std::to_string(spec.azure.dpd_timeout_seconds) +
                    "|" + std::to_string(spec.azure.ipsec_policy.has_value());
    t.fails = t.key.rfind("wrong", 0) == 0;
    ConnectionApplyResult r{spec.name, "added", ""};
    auto old = tunnels_.find(spec.name);
    if (old != tunnels_.end()) {
      r.change = old->second.fingerprint == t.fingerprint ? "unchanged" : "changed";
      if (r.change == "unchanged") t = old->second;
      t.bytes = old->second.bytes;
    }
    if (t.key.rfind("charonrefuses", 0) == 0) r.error = "charon refused the connection (test marker)";
    if (r.change != "unchanged") {
      t.up = false;
      t.up_at = std::chrono::steady_clock::now() + options_.up_delay;
    }
    result.connections.push_back(r);
    next[spec.name] = t;
  }
  for (const auto& [name, tunnel] : tunnels_) {
    if (!next.count(name)) result.connections.push_back({name, "removed", ""});
  }
  bool refused = false;
  for (const auto& c : result.connections) refused = refused || !c.error.empty();
  if (!refused) tunnels_ = std::move(next);
  if (!charon_up_) result.note = "charon is not connected; the configuration is applied when it is back";
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, options_.apply_delay);
  timer->async_wait([this, timer, result, done = std::move(done)](const boost::system::error_code&) {
    publish();
    done(result);
  });
}

std::map<std::string, std::string> FakeBackend::running_keys() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, t] : tunnels_) out[name] = t.key;
  return out;
}

void FakeBackend::set_charon_up(bool up) {
  charon_up_ = up;
  if (!up) {
    for (auto& [name, t] : tunnels_) t.up = false;
  } else {
    for (auto& [name, t] : tunnels_) t.up_at = std::chrono::steady_clock::now() + options_.up_delay;
  }
  publish();
}

void FakeBackend::tick() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [name, t] : tunnels_) {
    if (!charon_up_ || t.up || !t.dials || now < t.up_at) continue;
    if (t.fails) {
      if (t.last_error_at == 0 || t.last_error.empty()) {
        t.last_error = "authentication failed";
        t.last_error_at = unix_now();
      }
      continue;
    }
    t.up = true;
    t.established_at = unix_now();
    t.last_error.clear();
  }
  for (auto& [name, t] : tunnels_) {
    if (t.up) t.bytes += 1000;
  }
  publish();
  timer_.expires_after(options_.tick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

void FakeBackend::publish() {
  metrics::Observation o;
  o.taken_at = unix_now();
  o.daemons.charon_up = charon_up_;
  o.daemons.data_plane = "fake";
  nlohmann::json status = {{"charon", charon_up_ ? "connected" : "not connected"},
                           {"data_plane", {{"kind", "fake"}, {"why", "API tests"}, {"limitations", ""}}},
                           {"connections", nlohmann::json::array()},
                           {"bgp", {{"enabled", false}, {"sessions", nlohmann::json::array()},
                                    {"routes", nlohmann::json::array()}}}};
  for (const auto& [name, t] : tunnels_) {
    metrics::ConnectionObservation c;
    c.name = name;
    c.remote = t.remote;
    c.mode = t.mode;
    c.selectors = "route_based";
    c.up = t.up;
    c.connecting = !t.up && t.dials && charon_up_;
    c.dials = t.dials;
    c.ike_sas = t.up ? 1 : 0;
    c.child_sas = t.up ? 1 : 0;
    if (t.up) c.established_at = t.established_at;
    c.traffic.rx_bytes = t.bytes;
    c.traffic.tx_bytes = t.bytes * 2;
    c.traffic.rx_packets = t.bytes / 100;
    c.traffic.tx_packets = t.bytes / 50;
    // As ergwd's health tracker names it: the code, and the reason in words.
    c.ike_failures["psk_mismatch"] = t.last_error.empty() ? 0 : 1;
    if (!t.last_error.empty()) {
      c.last_error = "psk_mismatch";
      c.last_error_reason = t.last_error;
    }
    if (t.last_error_at) c.last_error_at = t.last_error_at;
    o.connections.push_back(c);
    nlohmann::json s = {{"name", name}, {"state", t.up ? "UP" : "DOWN"}, {"remote", t.remote},
                        {"initiates", t.dials}, {"routes", nlohmann::json::array()}};
    if (!t.last_error.empty()) s["last_error"] = {{"reason", t.last_error}, {"at", iso_time(t.last_error_at)}};
    status["connections"].push_back(std::move(s));
  }
  board_.publish_observation(std::move(o));
  board_.publish_status(std::move(status));
}

}  // namespace ergw::api::testing
