#include "tests/kernel/kernel_lab_test.h"

#include <unistd.h>

#include <fstream>
#include <iostream>

#include "gateway/cli/status_command.h"
#include "host/kernel_probe.h"
#include "lab/azure/lab_config_file.h"
#include "lab/azure/pfs_probe_settled.h"

namespace ergw::kernel_tests {

namespace fs = std::filesystem;

nlohmann::json read_golden(const std::string& name) {
  nlohmann::json config;
  std::ifstream(fs::path(ERGW_SOURCE_DIR) / "tests/gateway/policy/golden" / (name + ".json")) >> config;
  return config;
}

void KernelLabTest::skip_unless_kernel_esp(bool need_gcm) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the lab builds network namespaces";
  const auto offer = host::probe_kernel();
  std::cerr << "what this kernel offers:\n" << offer.to_string();
  if (!offer.carries_kernel_esp() || (need_gcm && !offer.esp_gcm.present)) {
    GTEST_SKIP() << "this kernel has no ESP, AES-GCM or xfrm interfaces (" << offer.summary()
                 << "); tests/kernel/run-in-vm runs this test in Debian's kernel under qemu";
  }
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (auto& ch : name) ch = ch == '/' ? '-' : ch;
  dir_ = fs::path(::testing::TempDir()) / ("ergw-kernel-" + std::to_string(getpid()) + "-" + name);
  fs::create_directories(dir_);
}

void KernelLabTest::TearDown() {
  if (HasFailure() && lab_) {
    // What ergwd and the fast path said, before the lab and its logs go.
    for (const auto& log : {lab_->lab().state_dir() / "ergwd.log",
                            lab_->lab().state_dir() / "appliance" / "fastpath" / "fastpath.log"}) {
      if (!fs::exists(log)) continue;
      std::cerr << "---- tail of " << log.string() << "\n"
                << lab_->lab().exec(lab::Node::appliance, {"tail", "-n", "40", log.string()}).out;
    }
  }
  lab_.reset();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

void KernelLabTest::start(const nlohmann::json& config, azure_lab::AzureLabOptions options) {
  const auto file = azure_lab::write_lab_config(dir_, "ergw", config);
  options.config_file = file;
  options.ergwd_path = ERGWD_PATH;
  options.fastpath_path = ERGW_FASTPATH_PATH;
  options.ergw_ipsec_plugin_dir = ERGW_PLUGIN_DIR;
  options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  // The first charon in a fresh VM reads charon and its plugins over 9p and
  // starts them on an emulated CPU: more than 15 s on a busy machine.
  options.charon_ready_timeout = std::chrono::seconds(60);
  auto created = azure_lab::AzureLab::create(options);
  ASSERT_TRUE(created) << created.error();
  lab_ = std::move(created.value());
}

nlohmann::json KernelLabTest::wait_until_up() {
  auto up = lab_->wait_until_up(std::chrono::seconds(120));
  EXPECT_TRUE(up) << up.error();
  if (!up) return nlohmann::json::object();
  // ergwd's PFS probe rekeys the CHILD SA about a second after it is up: the
  // old SA's counters vanish with it, so tests that count packets start after.
  auto settled = lab_->wait_for(
      std::chrono::seconds(60),
      [](const nlohmann::json& st) {
        for (const auto& c : st["connections"]) {
          if (!azure_lab::pfs_probe_settled(c)) return false;
        }
        return true;
      },
      "ergwd's PFS probe to conclude");
  EXPECT_TRUE(settled) << settled.error();
  auto s = status();
  std::cerr << cli::format_status(s);
  return s;
}

nlohmann::json KernelLabTest::bring_up(const std::string& golden, const std::string& data_plane,
                                       azure_lab::AzureLabOptions options) {
  auto config = read_golden(golden);
  config["appliance"]["dataPlane"] = data_plane;
  start(config, std::move(options));
  if (!lab_) return nlohmann::json::object();
  return wait_until_up();
}

nlohmann::json KernelLabTest::status() {
  auto s = lab_->status();
  EXPECT_TRUE(s) << s.error();
  return s ? s.value() : nlohmann::json::object();
}

std::string KernelLabTest::in_node(lab::Node node, const std::vector<std::string>& argv) {
  const auto r = lab_->lab().exec(node, argv);
  EXPECT_TRUE(r.ok()) << r.err;
  return r.out;
}

void KernelLabTest::ping_vnet(int count) {
  lab::PingOptions options;
  options.count = count;
  auto ping = lab::ping(lab_->lab().netns(lab::Node::onprem), lab_->lab().address(lab::Node::vnet), options);
  ASSERT_TRUE(ping) << ping.error();
  EXPECT_EQ(ping->received, count) << "ping through the tunnel lost packets";
}

long long KernelLabTest::iperf_between_hosts(bool reverse) {
  lab::IperfOptions options;
  options.duration = std::chrono::seconds(2);
  options.reverse = reverse;
  auto iperf = lab::iperf3(lab_->lab().netns(lab::Node::vnet), lab::address_only(lab_->lab().addresses().vnet_host),
                           lab_->lab().netns(lab::Node::onprem), lab_->lab().state_dir(), options);
  EXPECT_TRUE(iperf) << iperf.error();
  if (!iperf) return 0;
  std::cerr << "iperf3 TCP " << (reverse ? "vnet-host -> onprem-host" : "onprem-host -> vnet-host")
            << " (emulated CPU, not a benchmark): " << iperf->received_bits_per_second / 1e6 << " Mbit/s, "
            << iperf->bytes_received << " bytes\n";
  EXPECT_GT(iperf->bytes_received, 0);
  return iperf->bytes_received;
}

uint64_t child_packets(const nlohmann::json& status) {
  const auto connections = status.value("connections", nlohmann::json::array());
  if (connections.empty()) return 0;
  uint64_t total = 0;
  for (const auto& c : cli::all_children(connections[0])) {
    total += c.value("packets_in", 0ull) + c.value("packets_out", 0ull);
  }
  return total;
}

}  // namespace ergw::kernel_tests
