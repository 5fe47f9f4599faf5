// What the kernel tier's lab tests share: they run only in a kernel with ESP
// and xfrm interfaces (Debian's, under qemu: tests/kernel/run-in-vm) and
// build the lab (AzureLab) from a golden configuration, then send ping and
// TCP between the on-prem host and the VNet host.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab/azure/azure_lab.h"
#include "lab/traffic.h"

namespace ergw::kernel_tests {

// A golden configuration of tests/gateway/policy/golden (route-based, if_id 1).
nlohmann::json read_golden(const std::string& name);

class KernelLabTest : public ::testing::Test {
 protected:
  // Skips, saying why, unless this process is root in a kernel that carries
  // kernel ESP (and AES-GCM with `need_gcm`); prints what the kernel offers.
  // Creates the test's directory.
  void skip_unless_kernel_esp(bool need_gcm = false);
  // On a failure prints the tails of ergwd's and the fast path's logs; then
  // tears the lab down and removes the directory.
  void TearDown() override;

  // Writes `config` (mode 0600: it holds the PSK) and builds the lab on it;
  // `options` says the backends, the rest is filled in here.
  void start(const nlohmann::json& config, azure_lab::AzureLabOptions options);
  // Waits until the tunnel is up (TCG emulation is slow: 120 s) and returns
  // ergw status, printed.
  nlohmann::json wait_until_up();
  // start() on a golden configuration with the appliance's dataPlane set,
  // then wait_until_up(). The caller checks HasFailure().
  nlohmann::json bring_up(const std::string& golden, const std::string& data_plane,
                          azure_lab::AzureLabOptions options);

  nlohmann::json status();
  // A command in a node's namespace; its stdout.
  std::string in_node(lab::Node node, const std::vector<std::string>& argv);

  // `count` pings onprem-host -> vnet-host; every one must be answered.
  void ping_vnet(int count);
  // A 2-second iperf3 between the hosts (onprem-host the client; `reverse`:
  // the VNet host sends); the bytes the receiver got, which must not be 0.
  long long iperf_between_hosts(bool reverse = false);

  std::filesystem::path dir_;
  std::unique_ptr<azure_lab::AzureLab> lab_;
};

// Packets in and out of every CHILD SA of the first connection in ergw status.
uint64_t child_packets(const nlohmann::json& status);

}  // namespace ergw::kernel_tests
