// `ergw-lab run` (what `ergw lab` hands over to): the one-command demo. Builds the lab (on-prem host, appliance
// with charon + ergwd, the "ExpressRoute private peering" link, a simulated
// Azure VPN gateway, a VNet host), waits for the tunnel, shows `ergw status`,
// pushes ping and iperf3 traffic through, prints the throughput, and removes
// everything (unless --keep). `ergw-lab down LABID` removes a kept lab.
#pragma once

#include <CLI/CLI.hpp>

namespace ergw::lab {

// Registers `run` on the ergw-lab command line.
void add_run_command(CLI::App& app, int& exit_code);
// Registers `azure-side FILE`: prints the swanctl.conf and strongswan.conf
// settings the simulated Azure gateway runs for the file's first connection
// (its own model of Azure; exit 2 when the file cannot be read).
void add_azure_side_command(CLI::App& app, int& exit_code);

}  // namespace ergw::lab
