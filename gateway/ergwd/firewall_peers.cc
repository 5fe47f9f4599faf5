#include "gateway/ergwd/firewall_peers.h"

#include "common/atomic_file.h"
#include "gateway/ergwd/log.h"

namespace ergw::gateway {

std::set<std::string> ike_peers(const std::vector<ConnectionPlan>& plans) {
  std::set<std::string> peers;
  for (const auto& plan : plans) {
    if (!plan.remote.empty()) peers.insert(plan.remote);
  }
  return peers;
}

std::string render_peer_sets(const std::string& table, const std::set<std::string>& peers) {
  std::string v4, v6;
  for (const auto& peer : peers) {
    auto& list = peer.find(':') == std::string::npos ? v4 : v6;
    list += (list.empty() ? "" : ", ") + peer;
  }
  std::string script = "flush set " + table + " ike_peers4\nflush set " + table + " ike_peers6\n";
  if (!v4.empty()) script += "add element " + table + " ike_peers4 { " + v4 + " }\n";
  if (!v6.empty()) script += "add element " + table + " ike_peers6 { " + v6 + " }\n";
  return script;
}

FirewallPeers::FirewallPeers(FirewallOptions options, host::Launcher& launcher)
    : options_(std::move(options)), launcher_(launcher) {}

FirewallPeers::~FirewallPeers() { *alive_ = false; }

void FirewallPeers::apply(const std::vector<ConnectionPlan>& plans) {
  if (options_.table.empty()) return;
  auto peers = ike_peers(plans);
  if (ever_applied_ && peers == applied_) return;
  FileOptions file;
  file.mode = 0644;  // addresses only
  if (Status s = write_file_atomically(options_.script_path, render_peer_sets(options_.table, peers), file); !s) {
    log_line(LogLevel::error, "firewall: " + s.error());
    return;
  }
  host::LaunchSpec spec;
  spec.argv = {options_.nft, "-f", options_.script_path};
  spec.output = options_.script_path + ".log";  // nft's complaint, if any
  auto child = launcher_.launch(spec);
  if (!child) {
    log_line(LogLevel::error, "firewall: cannot run nft: " + child.error());
    return;
  }
  applied_ = peers;
  ever_applied_ = true;
  log_line(LogLevel::info, "firewall: IKE and ESP allowed from " + std::to_string(peers.size()) + " peer(s)");
  command_ = std::move(child.value());
  command_->async_wait_exit([alive = std::weak_ptr<bool>(alive_), this](host::ExitStatus status) {
    auto token = alive.lock();
    if (!token || !*token) return;
    if (status.wait_status != 0) {
      // The next configuration change tries again.
      ever_applied_ = false;
      log_line(LogLevel::error, "firewall: nft -f " + options_.script_path + " " + status.describe() +
                                    " (is the ergw nftables table loaded? systemctl status ergw-firewall)");
    }
  });
}

}  // namespace ergw::gateway
