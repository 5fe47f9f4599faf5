#include "gateway/diagnose/diagnoser.h"

#include <set>

namespace ergw::diagnose {

namespace {

// The device and an outside address of the on-prem side (the last host of the
// first of local.prefixes), so that Azure's prefixes are looked up as a packet
// forwarded from on-prem would be: policy rules (ergw's BGP table) included.
std::pair<std::string, std::string> onprem_source(const nlohmann::json& config) {
  for (const auto& c : config.value("connections", nlohmann::json::array())) {
    const auto prefixes = c.value("local", nlohmann::json::object()).value("prefixes", nlohmann::json::array());
    for (const auto& p : prefixes) {
      if (!p.is_string()) continue;
      auto prefix = IpPrefix::parse(p.get<std::string>(), true);
      if (!prefix || !prefix->is_v4() || prefix->length() > 30) continue;
      const uint32_t size = prefix->length() == 0 ? 0xffffffffu : (1u << (32 - prefix->length())) - 1;
      const auto source = IpAddress::v4((prefix->network().masked(prefix->length()).v4_host_order() | size) - 1);
      const auto lookup = look_up_route(source);
      if (lookup.error.empty() && !lookup.device.empty()) return {source.to_string(), lookup.device};
    }
  }
  return {};
}

}  // namespace

Evidence gather(nlohmann::json status, nlohmann::json config, std::string only) {
  Evidence e;
  e.status = std::move(status);
  e.config = std::move(config);
  e.only = std::move(only);
  auto routes = read_kernel_routes();
  if (routes) {
    e.kernel_routes = std::move(routes.value());
  } else {
    e.kernel_routes_error = routes.error();
  }
  const auto [source, in_device] = onprem_source(e.config);
  std::map<std::string, UnderlayEvidence> underlay_by_peer;
  std::map<std::string, std::vector<PortProbe>> ports_by_peer;
  for (const auto& c : e.status.value("connections", nlohmann::json::array())) {
    const auto name = c.value("name", "");
    if (!e.only.empty() && name != e.only) continue;
    auto& probes = e.connections[name];
    const auto remote = IpAddress::parse(c.value("remote", ""));
    if (remote && remote->is_v4()) {
      const auto key = remote->to_string();
      if (!underlay_by_peer.count(key)) {
        underlay_by_peer[key] = probe_underlay(*remote);
        ports_by_peer[key] = {probe_udp_port(*remote, 500), probe_udp_port(*remote, 4500)};
      }
      probes.underlay = underlay_by_peer[key];
      probes.ike_ports = ports_by_peer[key];
      probes.lookups.push_back(look_up_route(*remote));
    }
    const auto prefixes = azure_prefixes(e.status, name);
    for (const auto& address : sample_addresses(prefixes, e.kernel_routes, tunnel_devices(e.status, name))) {
      probes.lookups.push_back(look_up_route(address, source, in_device));
    }
  }
  e.clock = read_clock_sync();
  return e;
}

Diagnoser::~Diagnoser() {
  std::thread worker;
  {
    std::lock_guard lock(mutex_);
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

bool Diagnoser::start(nlohmann::json status, nlohmann::json config, std::string only, Done done) {
  std::lock_guard lock(mutex_);
  if (running_) return false;
  if (worker_.joinable()) worker_.join();
  running_ = true;
  worker_ = std::thread([this, status = std::move(status), config = std::move(config), only = std::move(only),
                         done = std::move(done)]() mutable {
    auto evidence = gather(std::move(status), std::move(config), std::move(only));
    auto findings = run_checks(evidence);
    {
      std::lock_guard finished(mutex_);
      running_ = false;
    }
    done(std::move(findings));
  });
  return true;
}

}  // namespace ergw::diagnose
