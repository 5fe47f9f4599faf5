#include "gateway/diagnose/kernel_routes.h"

#include "common/parse_json.h"
#include "host/process.h"

namespace ergw::diagnose {

namespace {

std::string string_member(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const auto& value = j[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  return "";
}

Result<nlohmann::json> parse_array(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed || !parsed->is_array()) return Error{"iproute2's output is not a JSON array", ErrorCode::malformed};
  return *parsed;
}

}  // namespace

std::string KernelRoute::describe() const {
  std::string out = prefix.to_string();
  if (!gateway.empty()) out += " via " + gateway;
  if (!device.empty()) out += " dev " + device;
  out += " table " + table;
  if (!protocol.empty()) out += " proto " + protocol;
  return out;
}

std::string RouteLookup::describe() const {
  if (!error.empty()) return "ip route get " + address + ": " + error;
  std::string out = "ip route get " + address + ": ";
  if (!gateway.empty()) out += "via " + gateway + " ";
  out += "dev " + device;
  if (!table.empty()) out += " table " + table;
  return out;
}

Result<std::vector<KernelRoute>> parse_route_dump(std::string_view json_text) {
  auto array = parse_array(json_text);
  if (!array) return array.failure();
  std::vector<KernelRoute> out;
  for (const auto& entry : array.value()) {
    const auto type = string_member(entry, "type");
    if (!type.empty() && type != "unicast") continue;  // local, broadcast, blackhole, ...
    const auto table = string_member(entry, "table");
    if (table == "local") continue;
    auto destination = string_member(entry, "dst");
    if (destination == "default") destination = "0.0.0.0/0";
    auto prefix = IpPrefix::parse(destination, true);
    if (!prefix || !prefix->is_v4()) continue;
    KernelRoute route;
    route.prefix = IpPrefix(prefix->network().masked(prefix->length()), prefix->length());
    route.device = string_member(entry, "dev");
    route.gateway = string_member(entry, "gateway");
    route.table = table.empty() ? "main" : table;
    route.protocol = string_member(entry, "protocol");
    out.push_back(std::move(route));
  }
  return out;
}

Result<RouteLookup> parse_route_get(std::string_view json_text) {
  auto array = parse_array(json_text);
  if (!array) return array.failure();
  if (array.value().empty() || !array.value()[0].is_object()) {
    return Error{"ip route get answered nothing", ErrorCode::malformed};
  }
  const auto& first = array.value()[0];
  RouteLookup lookup;
  lookup.address = string_member(first, "dst");
  lookup.device = string_member(first, "dev");
  lookup.gateway = string_member(first, "gateway");
  lookup.table = string_member(first, "table");
  return lookup;
}

Result<std::vector<KernelRoute>> read_kernel_routes() {
  const std::vector<std::string> argv = {"ip", "-j", "-4", "route", "show", "table", "all"};
  const auto run = host::run_command(argv, std::chrono::seconds(5));
  if (!run.ok()) return Error{run.describe(argv), ErrorCode::unavailable};
  return parse_route_dump(run.out);
}

RouteLookup look_up_route(const IpAddress& address, const std::string& source, const std::string& in_device) {
  std::vector<std::string> argv = {"ip", "-j", "route", "get", address.to_string()};
  if (!in_device.empty() && !source.empty()) {
    for (const auto& a : {"from", source.c_str(), "iif", in_device.c_str()}) argv.emplace_back(a);
  }
  auto run = host::run_command(argv, std::chrono::seconds(5));
  if (!run.ok() && argv.size() > 5) {
    argv.resize(5);
    run = host::run_command(argv, std::chrono::seconds(5));
  }
  RouteLookup lookup;
  lookup.address = address.to_string();
  if (!run.ok()) {
    lookup.error = run.err.empty() ? run.describe(argv) : run.err.substr(0, run.err.find('\n'));
    return lookup;
  }
  auto parsed = parse_route_get(run.out);
  if (!parsed) {
    lookup.error = parsed.error();
    return lookup;
  }
  parsed.value().address = address.to_string();
  return parsed.value();
}

}  // namespace ergw::diagnose
