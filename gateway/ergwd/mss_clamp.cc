#include "gateway/ergwd/mss_clamp.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "common/atomic_file.h"
#include "gateway/ergwd/log.h"
#include "gateway/policy/azure_facts.h"

namespace ergw::gateway {

namespace {

constexpr int kIpv4AndTcpHeaders = 40;

// What nft said last (its error), from the log it appends to.
std::string last_line(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace

std::vector<DeviceMss> plan_mss_clamps(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans,
                                       const std::vector<DeviceMtu>& mtus) {
  std::map<std::string, DeviceMss> devices;
  for (const auto& plan : plans) {
    if (kind == DataPlaneKind::kernel && plan.if_id == 0) continue;
    if (plan.tcp_mss && *plan.tcp_mss == 0) continue;  // tcpMss 0: no clamp
    const std::string device = tunnel_device(kind, plan.if_id);
    DeviceMss want{device, policy::kAzureTcpMss, plan.name, "Azure's 1350"};
    if (plan.tcp_mss) {
      want.mss = *plan.tcp_mss;
      want.why = "tcpMss " + std::to_string(*plan.tcp_mss);
    } else {
      for (const auto& m : mtus) {
        if (m.device == device && m.mtu - kIpv4AndTcpHeaders < want.mss) {
          want.mss = m.mtu - kIpv4AndTcpHeaders;
          want.why = device + " MTU " + std::to_string(m.mtu) + " - 40";
        }
      }
    }
    auto [it, added] = devices.try_emplace(device, want);
    if (!added && want.mss < it->second.mss) it->second = want;
  }
  std::vector<DeviceMss> out;
  for (auto& [device, clamp] : devices) out.push_back(std::move(clamp));
  return out;
}

std::string render_mss_ruleset(const std::vector<DeviceMss>& clamps) {
  const std::string table = std::string("table inet ") + kMssClampTable;
  // Adding a table that exists is no error: the delete then always has one.
  std::string out = table + "\ndelete " + table + "\n";
  if (clamps.empty()) return out;
  out += table + " {\n\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n";
  for (const auto& c : clamps) {
    const std::string mss = std::to_string(c.mss);
    const std::string match = " tcp flags & (syn | rst) == syn tcp option maxseg size > " + mss +
                              " tcp option maxseg size set " + mss + " comment \"" + c.connection + "\"\n";
    out += "\t\toifname \"" + c.device + "\"" + match;
    out += "\t\tiifname \"" + c.device + "\"" + match;
  }
  out += "\t}\n}\n";
  return out;
}

MssClamp::MssClamp(host::Launcher& launcher, MssClampOptions options)
    : launcher_(launcher), options_(std::move(options)) {}

MssClamp::~MssClamp() { *alive_ = false; }

void MssClamp::set(std::vector<DeviceMss> clamps) {
  const bool changed = clamps != wanted_;
  wanted_ = std::move(clamps);
  if (nft_) return;  // when it ends, it looks at wanted_ again
  // A refused plan is tried again when the plan changes, not every second.
  if (!changed && !error_.empty()) return;
  run_next();
}

void MssClamp::run_next() {
  // installed_ starts empty, but the table of an ergwd that ran before stays
  // (it outlives ergwd, as the tunnels do): the first pass runs nft even for
  // an empty plan, which deletes such a table.
  if (checked_ && wanted_ == installed_ && error_.empty()) return;
  if (auto s = write_file_atomically(options_.script_file, render_mss_ruleset(wanted_)); !s) {
    error_ = "writing " + options_.script_file + ": " + s.error();
    return;
  }
  host::LaunchSpec spec;
  spec.argv = {options_.nft, "-f", options_.script_file};
  spec.output = options_.log_file;
  spec.group = host::ProcessGroup::inherit;
  auto child = launcher_.launch(spec);
  if (!child) {
    error_ = "nft: " + child.error() + " (the Debian package nftables)";
    log_line(LogLevel::error, "TCP MSS clamp: " + error_);
    return;
  }
  nft_ = std::move(child.value());
  running_ = wanted_;
  nft_->async_wait_exit([this, alive = std::weak_ptr<bool>(alive_)](host::ExitStatus status) {
    auto token = alive.lock();
    if (!token || !*token) return;
    nft_.reset();
    if (WIFEXITED(status.wait_status) && WEXITSTATUS(status.wait_status) == 0) {
      installed_ = running_;
      checked_ = true;
      error_.clear();
      std::string what;
      for (const auto& c : installed_) what += (what.empty() ? "" : ", ") + c.device + " " + std::to_string(c.mss);
      log_line(LogLevel::info, "TCP MSS clamp (nftables table inet " + std::string(kMssClampTable) +
                                   "): " + (what.empty() ? std::string("none") : what));
    } else {
      const auto said = last_line(options_.log_file);
      const std::string error = "nft -f " + options_.script_file + " " + status.describe() +
                                (said.empty() ? "" : ": " + said);
      if (error != error_) log_line(LogLevel::error, "TCP MSS clamp: " + error);
      error_ = error;
      return;  // tried again when the plan changes
    }
    if (wanted_ != installed_) run_next();
  });
}

nlohmann::json MssClamp::report(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans) const {
  nlohmann::json out = {{"table", std::string("inet ") + kMssClampTable}};
  nlohmann::json connections = nlohmann::json::array();
  for (const auto& plan : plans) {
    if (plan.tcp_mss && *plan.tcp_mss == 0) continue;
    if (kind == DataPlaneKind::kernel && plan.if_id == 0) continue;
    const auto device = tunnel_device(kind, plan.if_id);
    // Every connection on a device is clamped to the device's MSS.
    for (const auto& c : installed_) {
      if (c.device != device) continue;
      connections.push_back({{"connection", plan.name}, {"device", c.device}, {"mss", c.mss},
                             {"why", c.connection == plan.name ? c.why : c.why + " (for " + c.connection + ")"}});
    }
  }
  out["connections"] = std::move(connections);
  if (!error_.empty()) out["error"] = error_;
  return out;
}

}  // namespace ergw::gateway
