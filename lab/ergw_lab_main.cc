// ergw-lab: the lab's own command. `ergw lab ARGS` runs `ergw-lab run ARGS`.
//
//   ergw-lab run [--config F] [--keep] ...         the demo: ergwd against a
//                                                  simulated Azure gateway
//   ergw-lab up [--tunnel] [--keep] [--labid ID]   build; wait for ^C unless --keep
//   ergw-lab down LABID                            remove a (kept) lab
//   ergw-lab list                                  labs and their owners
//   ergw-lab cleanup                               remove labs whose owner died
//   ergw-lab caps                                  kernel data-plane capabilities
//   ergw-lab azure-side FILE [--show-secrets]      what the simulated Azure
//                                                  gateway runs for FILE
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "host/kernel_probe.h"
#include "lab/demo_tunnel.h"
#include "lab/lab.h"
#include "lab/lab_command.h"
#include "lab/lab_state.h"
#include "lab/traffic.h"

namespace {

using namespace ergw::lab;

int cmd_up(const std::filesystem::path& root, bool keep, bool tunnel, const std::string& labid) {
  LabConfig config;
  config.state_root = root;
  config.keep = keep;
  config.labid = labid;
  auto created = Lab::create(config);
  if (!created.ok()) {
    std::cerr << "ergw-lab: " << created.error() << "\n";
    return 1;
  }
  Lab& lab = *created.value();
  if (tunnel) {
    if (ergw::Status s = bring_up_demo_tunnel(lab); !s.ok()) {
      std::cerr << "ergw-lab: " << s.error() << "\n";
      lab.set_keep(false);  // a half-built lab is never kept
      return 1;
    }
    auto sas = lab.charon(Node::appliance)->list_sas();
    if (sas.ok()) std::cout << sas.value();
    auto result = ping(lab.netns(Node::onprem), lab.address(Node::vnet), {});
    if (result.ok()) {
      std::cout << "ping onprem-host -> vnet-host: " << result->received << "/" << result->transmitted
                << " replies\n";
    }
  }
  // The first line a script reads: the lab id.
  std::cout << "lab " << lab.id() << " up (state " << lab.state_dir().string() << ")" << std::endl;
  if (keep) {
    std::cout << "kept; remove with: ergw-lab down " << lab.id() << std::endl;
    return 0;
  }
  std::cout << "Ctrl-C (or SIGTERM) tears it down" << std::endl;
  for (;;) pause();  // the signal-cleanup thread tears down and ends us
}

int cmd_list(const std::filesystem::path& root) {
  for (const auto& lab : list_labs(root)) {
    std::cout << lab.labid << "  " << (lab.stale ? "stale" : (lab.record && lab.record->keep ? "kept" : "live"));
    if (lab.record) {
      std::cout << "  owner " << lab.record->owner_pid;
      for (const auto& d : lab.record->daemons) std::cout << "  " << d.name << "=" << d.pid;
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ergw lab: four namespaces, an appliance and a simulated Azure VPN gateway"};
  app.require_subcommand(1);
  std::string root = "/run/ergw-lab";
  app.add_option("--state-root", root, "where lab state directories live");

  bool keep = false;
  bool tunnel = false;
  std::string labid;
  auto* up = app.add_subcommand("up", "build a lab; tear it down on Ctrl-C unless --keep");
  up->add_flag("--keep", keep, "leave the lab up and exit");
  up->add_flag("--tunnel", tunnel, "start both charons and bring the hand-written PSK tunnel up");
  up->add_option("--labid", labid, "lab id ([0-9a-z], default: from the pid)");

  std::string down_id;
  auto* down = app.add_subcommand("down", "remove a lab by id");
  down->add_option("labid", down_id)->required();
  auto* list = app.add_subcommand("list", "list labs");
  auto* cleanup = app.add_subcommand("cleanup", "remove labs whose owner is gone");
  auto* caps = app.add_subcommand("caps", "probe the kernel's ESP / xfrm interface / TUN support");

  int run_exit_code = 0;
  ergw::lab::add_run_command(app, run_exit_code);
  int azure_side_exit_code = 0;
  ergw::lab::add_azure_side_command(app, azure_side_exit_code);

  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("run")) return run_exit_code;
  if (app.got_subcommand("azure-side")) return azure_side_exit_code;
  if (geteuid() != 0 && !caps->parsed() && !list->parsed()) {
    std::cerr << "ergw-lab: needs root (network namespaces)\n";
    return 1;
  }
  if (up->parsed()) return cmd_up(root, keep, tunnel, labid);
  if (down->parsed()) {
    ergw::Status s = teardown_lab(root, down_id, stderr_progress());
    if (!s.ok()) std::cerr << "ergw-lab: " << s.error() << "\n";
    return s.ok() ? 0 : 1;
  }
  if (list->parsed()) return cmd_list(root);
  if (cleanup->parsed()) {
    for (const auto& id : cleanup_stale(root, stderr_progress())) std::cout << "removed " << id << "\n";
    return 0;
  }
  if (caps->parsed()) {
    std::cout << ergw::host::probe_kernel().to_string();
    return 0;
  }
  return 0;
}
