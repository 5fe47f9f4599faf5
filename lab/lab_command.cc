#include "lab/lab_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "lab/azure/azure_lab.h"
#include "gateway/cli/status_command.h"
#include "gateway/policy/connection_reader.h"
#include "lab/lab_state.h"
#include "lab/traffic.h"
#include "lab/vm_appliance.h"

namespace ergw::lab {
namespace {

struct LabOptions {
  std::string config = "examples/lab.json";
  std::string data_plane = "auto";        // the appliance's: auto (fastpath when built), fastpath, libipsec
  std::string azure_data_plane = "auto";  // auto (as the appliance's), fastpath, libipsec
  bool keep = false;
  int iperf_seconds = 5;
  int up_timeout = 60;
  bool hold = false;
  bool appliance_vm = false;
  std::vector<std::string> ergwd_args;
};

// The lab runs the ergwd and ergw-fastpath installed (or built) beside it.
std::filesystem::path beside_us(const char* program) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return program;
  return self.parent_path() / program;
}

// The ergw-ipsec plugin as built (build/lib/charon-plugins beside build/bin),
// else as installed for charon.
std::filesystem::path ergw_ipsec_plugin_dir() {
  const auto built = beside_us("ergw-lab").parent_path().parent_path() / "lib" / "charon-plugins";
  if (std::filesystem::exists(built / "libstrongswan-ergw-ipsec.so")) return built;
  return "/usr/lib/ipsec/plugins";
}

bool fastpath_available() {
  return std::filesystem::exists(beside_us("ergw-fastpath")) &&
         std::filesystem::exists(ergw_ipsec_plugin_dir() / "libstrongswan-ergw-ipsec.so");
}

Result<CharonBackend> backend_named(const std::string& name, const char* option) {
  if (name == "fastpath") {
    if (!fastpath_available()) {
      return Error{std::string(option) + " fastpath: ergw-fastpath or the ergw-ipsec plugin was not found beside "
                   "ergw-lab (build ergw-fastpath and ergw-ipsec-plugin)"};
    }
    return CharonBackend::ergw_ipsec;
  }
  if (name == "libipsec") return CharonBackend::libipsec;
  return Error{std::string(option) + " \"" + name + "\": allowed auto, fastpath, libipsec"};
}

// Microsoft's published VPN Gateway throughput (Microsoft Learn, "About VPN
// Gateway SKUs", Gen2 rows; per tunnel measured by Microsoft between Azure
// gateways), beside what this lab measured.
void print_beside_vpngw_table(double mbps, const std::string& what) {
  const char* rows[][4] = {{"VpnGw1(AZ)", "650 Mbit/s", "650 Mbit/s", "500 Mbit/s"},
                           {"VpnGw2(AZ)", "1.25 Gbit/s", "1.25 Gbit/s", "550 Mbit/s"},
                           {"VpnGw3(AZ)", "2.5 Gbit/s", "1.5 Gbit/s", "700 Mbit/s"},
                           {"VpnGw4(AZ)", "5 Gbit/s", "2.3 Gbit/s", "700 Mbit/s"},
                           {"VpnGw5(AZ)", "10 Gbit/s", "2.3 Gbit/s", "700 Mbit/s"}};
  char line[160];
  std::snprintf(line, sizeof line, "  %-26s %12s %15s %18s", "", "aggregate", "GCMAES256/tunnel", "AES256+SHA256/tunnel");
  std::cout << line << "\n";
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "  Azure %-20s %12s %15s %18s", r[0], r[1], r[2], r[3]);
    std::cout << line << "\n";
  }
  const std::string measured = std::to_string(static_cast<long>(mbps)) + " Mbit/s";
  std::snprintf(line, sizeof line, "  %-26s %12s %15s   (%s)", "this lab, one tunnel", "", measured.c_str(), what.c_str());
  std::cout << line << "\n";
  std::cout << "  (Azure's figures: Microsoft Learn, \"About VPN Gateway SKUs\"; this lab: one TCP stream over one "
               "tunnel on this machine's shared cores)" << std::endl;
}

void say(const std::string& line) { std::cout << line << std::endl; }

// --appliance-vm: what the program booting the VM needs, as one JSON line
// ("ergw lab: vm-lab {...}"): the namespaces, the taps, the addresses the VM's
// NICs take, the hosts to ping between and the Azure side's BIRD.
int hold_for_vm(azure_lab::AzureLab& lab) {
  auto& l = lab.lab();
  const auto& a = l.addresses();
  nlohmann::json facts = {
      {"labid", l.id()},
      {"state_dir", l.state_dir().string()},
      {"appliance_netns", l.netns(Node::appliance)},
      {"onprem_netns", l.netns(Node::onprem)},
      {"vnet_netns", l.netns(Node::vnet)},
      {"azure_netns", l.netns(Node::azure_gw)},
      {"taps", {{"wan", kVmWanTap}, {"lan", kVmLanTap}, {"mgmt", kVmMgmtTap}}},
      {"vm", {{"wan", a.appliance_wan}, {"lan", a.appliance_lan}, {"mgmt", kVmMgmt}}},
      {"host_mgmt", kVmHostMgmt},
      {"onprem_host", l.address(Node::onprem)},
      {"vnet_host", l.address(Node::vnet)},
      {"azure_gateway", l.address(Node::azure_gw)},
      {"azure_bird_socket", lab.azure_bird() ? lab.azure_bird()->socket_path() : std::string()},
  };
  say("ergw lab: vm-lab " + facts.dump());
  say("ergw lab: holding lab " + l.id() + " for the appliance VM; SIGTERM removes it");
  for (;;) ::pause();
}

int run_lab(const LabOptions& options) {
  if (geteuid() != 0) {
    std::cerr << "ergw lab: needs root (it creates network namespaces)\n";
    return 1;
  }
  azure_lab::AzureLabOptions lab_options;
  lab_options.config_file = options.config;
  lab_options.ergwd_path = beside_us("ergwd");
  lab_options.fastpath_path = beside_us("ergw-fastpath");
  lab_options.ergw_ipsec_plugin_dir = ergw_ipsec_plugin_dir();
  const std::string appliance_plane =
      options.data_plane == "auto" ? (fastpath_available() ? "fastpath" : "libipsec") : options.data_plane;
  const std::string azure_plane = options.azure_data_plane == "auto" ? appliance_plane : options.azure_data_plane;
  auto appliance_backend = backend_named(appliance_plane, "--data-plane");
  auto azure_backend = backend_named(azure_plane, "--azure-data-plane");
  for (const auto* b : {&appliance_backend, &azure_backend}) {
    if (!*b) {
      std::cerr << "ergw lab: " << b->error() << "\n";
      return 2;
    }
  }
  lab_options.appliance_backend = appliance_backend.value();
  lab_options.azure_backend = azure_backend.value();
  lab_options.keep = options.keep;
  lab_options.ergwd_args = options.ergwd_args;
  lab_options.appliance_vm = options.appliance_vm;
  lab_options.progress = [](std::string_view line) { std::cout << line << std::endl; };
  say("ergw lab: building the lab from " + options.config + "; appliance data plane " + appliance_plane +
      ", simulated Azure gateway " + (azure_plane == "fastpath" ? "on ergw's fast path (so the throughput is the "
                                                                   "appliance's, not libipsec's)"
                                                                 : "on strongSwan's kernel-libipsec"));
  auto created = azure_lab::AzureLab::create(lab_options);
  if (!created) {
    std::cerr << "ergw lab: " << created.error() << "\n";
    return 1;
  }
  auto& lab = *created.value();
  if (options.appliance_vm) return hold_for_vm(lab);
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

  if (options.iperf_seconds > 0) {
    say("[lab " + lab.lab().id() + "] iperf3 on-prem host -> VNet host, " + std::to_string(options.iperf_seconds) +
        " s, one TCP stream");
    lab::IperfOptions iperf_options;
    iperf_options.duration = std::chrono::seconds(options.iperf_seconds);
    auto iperf = lab::iperf3(lab.lab().netns(lab::Node::vnet), vnet_address, onprem, lab.lab().state_dir(),
                             iperf_options);
    if (!iperf) return fail("iperf3: " + iperf.error());
    const double mbps = iperf->received_bits_per_second / 1e6;
    const std::string plane = status.value()["data_plane"].value("kind", std::string("?"));
    say("  throughput " + std::to_string(static_cast<long>(mbps)) + " Mbit/s (" +
        std::to_string(iperf->retransmits) + " TCP retransmits) through " + plane + " ESP");
    print_beside_vpngw_table(mbps, "appliance " + plane + ", Azure side " + azure_plane);
    if (iperf->bytes_received <= 0) return fail("iperf3 moved no data");
  }

  status = lab.status();
  if (status) say("\n$ ergw status (after traffic)\n" + cli::format_status(status.value()));
  if (options.keep) {
    lab.lab().set_keep(true);
    say("ergw lab: kept lab " + lab.lab().id() + "; status: ergw status --socket " + lab.api_socket() +
        "; remove it with: ergw lab down " + lab.lab().id());
  } else if (options.hold) {
    // For tests driving the lab from outside: the lab (and its supervisor,
    // which restarts a killed ergwd) lives until SIGTERM or SIGINT, whose
    // handler tears it down and ends this process.
    say("ergw lab: holding lab " + lab.lab().id() + " (state " + lab.lab().state_dir().string() + ", ergwd state " +
        lab.ergwd_state_dir().string() + ", API socket " + lab.api_socket() + "); SIGTERM removes it");
    for (;;) ::pause();
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
  run->add_option("--data-plane", options->data_plane,
                  "the appliance's data plane: auto (the fast path when built), fastpath, libipsec")
      ->capture_default_str();
  run->add_option("--azure-data-plane", options->azure_data_plane,
                  "the simulated Azure gateway's: auto (as the appliance's), fastpath (the throughput is then the "
                  "appliance's), libipsec (an independent ESP implementation)")
      ->capture_default_str();
  run->add_flag("--keep", options->keep, "leave the lab up (remove it with `ergw lab down LABID`)");
  run->add_option("--iperf-seconds", options->iperf_seconds, "length of the iperf3 run")->capture_default_str();
  run->add_option("--up-timeout", options->up_timeout, "seconds to wait for the tunnel")->capture_default_str();
  run->add_flag("--hold", options->hold, "keep the lab, supervised, until SIGTERM/SIGINT (tests drive it meanwhile)");
  run->add_flag("--appliance-vm", options->appliance_vm,
                "the appliance is a VM that another program boots in the appliance namespace (image/boot-test): "
                "build the lab around it, print its facts as one JSON line, hold until SIGTERM/SIGINT");
  run->add_option("--ergwd-arg", options->ergwd_args, "one more ergwd option (repeat; --ergwd-arg=--api-listen=...)")
      ->allow_extra_args(false);
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
