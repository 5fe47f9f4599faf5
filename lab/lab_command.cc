#include "lab/lab_command.h"

#include <unistd.h>

#include <iostream>

#include "lab/azure/azure_lab.h"
#include "gateway/cli/status_command.h"
#include "gateway/policy/connection_reader.h"
#include "lab/lab_state.h"
#include "lab/traffic.h"

namespace ergw::lab {
namespace {

struct LabOptions {
  std::string config = "examples/lab.json";
  bool keep = false;
  int iperf_seconds = 5;
  int up_timeout = 60;
};

// The lab runs the ergwd installed (or built) beside it.
std::filesystem::path ergwd_beside_us() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "ergwd";
  return self.parent_path() / "ergwd";
}

void say(const std::string& line) { std::cout << line << std::endl; }

int run_lab(const LabOptions& options) {
  if (geteuid() != 0) {
    std::cerr << "ergw lab: needs root (it creates network namespaces)\n";
    return 1;
  }
  azure_lab::AzureLabOptions lab_options;
  lab_options.config_file = options.config;
  lab_options.ergwd_path = ergwd_beside_us();
  lab_options.keep = options.keep;
  lab_options.progress = [](std::string_view line) { std::cout << line << std::endl; };
  say("ergw lab: building the lab from " + options.config);
  auto created = azure_lab::AzureLab::create(lab_options);
  if (!created) {
    std::cerr << "ergw lab: " << created.error() << "\n";
    return 1;
  }
  auto& lab = *created.value();
  auto fail = [&](const std::string& what) {
    std::cerr << "ergw lab: FAILED: " << what << "\n";
    std::cerr << "  logs: " << lab.lab().state_dir().string() << " (removed on exit unless --keep)\n";
    return 1;
  };

  say("[lab " + lab.lab().id() + "] waiting for the tunnel (ergwd drives the appliance's charon)");
  if (auto s = lab.wait_until_up(std::chrono::seconds(options.up_timeout)); !s) return fail(s.error());
  auto status = lab.status();
  if (!status) return fail(status.error());
  say("\n$ ergw status\n" + cli::format_status(status.value()));

  const auto onprem = lab.lab().netns(lab::Node::onprem);
  const auto vnet_address = lab.lab().address(lab::Node::vnet);
  say("[lab " + lab.lab().id() + "] ping on-prem host -> VNet host " + vnet_address);
  lab::PingOptions ping_options;
  ping_options.count = 5;
  auto ping = lab::ping(onprem, vnet_address, ping_options);
  if (!ping) return fail("ping: " + ping.error());
  say("  " + std::to_string(ping->received) + "/" + std::to_string(ping->transmitted) + " replies" +
      (ping->rtt_avg_ms ? ", rtt avg " + std::to_string(*ping->rtt_avg_ms) + " ms" : ""));
  if (ping->received == 0) return fail("no ping reply through the tunnel");

  say("[lab " + lab.lab().id() + "] iperf3 on-prem host -> VNet host, " + std::to_string(options.iperf_seconds) +
      " s, one TCP stream");
  lab::IperfOptions iperf_options;
  iperf_options.duration = std::chrono::seconds(options.iperf_seconds);
  auto iperf = lab::iperf3(lab.lab().netns(lab::Node::vnet), vnet_address, onprem, lab.lab().state_dir(),
                           iperf_options);
  if (!iperf) return fail("iperf3: " + iperf.error());
  const double mbps = iperf->received_bits_per_second / 1e6;
  say("  throughput " + std::to_string(static_cast<long>(mbps)) + " Mbit/s (" +
      std::to_string(iperf->retransmits) + " TCP retransmits) through " +
      status.value()["data_plane"].value("kind", std::string("?")) + " ESP");
  say("  for scale, Azure's per-tunnel figures (GCMAES256): VpnGw1 650 Mbit/s, VpnGw2 1.2 Gbit/s, "
      "VpnGw4/5 2.3 Gbit/s (Microsoft Learn, \"About VPN Gateway SKUs\", per-tunnel throughput); this lab "
      "runs userspace ESP on this machine's cores");
  if (iperf->bytes_received <= 0) return fail("iperf3 moved no data");

  status = lab.status();
  if (status) say("\n$ ergw status (after traffic)\n" + cli::format_status(status.value()));
  if (options.keep) {
    lab.lab().set_keep(true);
    say("ergw lab: kept lab " + lab.lab().id() + "; status: ergw status --socket " + lab.control_socket() +
        "; remove it with: ergw lab down " + lab.lab().id());
  } else {
    say("ergw lab: OK; removing the lab");
  }
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto* run = app.add_subcommand("run", "The demo: a real tunnel to a simulated Azure VPN gateway, with traffic");
  auto options = std::make_shared<LabOptions>();
  run->add_option("--config", options->config, "ergw configuration whose addresses fit the lab")
      ->capture_default_str();
  run->add_flag("--keep", options->keep, "leave the lab up (remove it with `ergw lab down LABID`)");
  run->add_option("--iperf-seconds", options->iperf_seconds, "length of the iperf3 run")->capture_default_str();
  run->add_option("--up-timeout", options->up_timeout, "seconds to wait for the tunnel")->capture_default_str();
  run->callback([options, &exit_code] { exit_code = run_lab(*options); });
}

void add_azure_side_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string file;
    std::string identity;
    bool show_secrets = false;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("azure-side", "Print what the simulated Azure VPN gateway runs for FILE");
  cmd->add_option("FILE", options->file, "ergw configuration (its first connection)")->required();
  cmd->add_flag("--show-secrets", options->show_secrets, "print the PSK (hex) instead of <redacted>");
  cmd->add_option("--identity", options->identity, "the IKE identity the gateway presents (default: its address)");
  cmd->callback([options, &exit_code] {
    Diagnostics diagnostics;
    auto config = policy::read_configuration_file(options->file, diagnostics);
    if (!config || diagnostics.has_errors() || config->connections.empty()) {
      std::cerr << diagnostics.format() << options->file << ": cannot be read\n";
      exit_code = 2;
      return;
    }
    const auto model = azure_lab::model_azure_gateway(config->connections.front(), {options->identity});
    std::cout << azure_lab::render_azure_swanctl_conf(model, options->show_secrets);
    std::cout << "\n# strongswan.conf settings the simulated gateway's charon starts with:\n";
    std::string line;
    for (char c : azure_lab::render_azure_charon_settings(model)) {
      if (c != '\n') {
        line += c;
        continue;
      }
      std::cout << "# " << line << "\n";
      line.clear();
    }
    exit_code = 0;
  });
}

}  // namespace ergw::lab
