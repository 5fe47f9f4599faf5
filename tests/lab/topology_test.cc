// The lab's topology and its cleanup on every exit path: destructor, SIGTERM
// to the owner, SIGKILL of the owner followed by cleanup_stale, and --keep.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "lab/lab.h"
#include "lab/traffic.h"
#include "lab/vm_appliance.h"
#include "tests/lab/lab_fixture.h"

namespace ergw::lab {
namespace {

using namespace std::chrono_literals;
using testing::existing_namespaces;
using testing::lab_unavailable;
using testing::test_progress;

#define SKIP_WITHOUT_LAB(need_charon)                                          \
  if (auto why = lab_unavailable(need_charon)) GTEST_SKIP() << *why

LabConfig quiet_config() {
  LabConfig config;
  config.progress = test_progress();
  return config;
}

TEST(LabTopology, UpAndDownLeavesNothingBehind) {
  SKIP_WITHOUT_LAB(false);
  const std::string root_before = host::run_command({"ip", "-4", "addr", "show"}).out;
  std::string labid;
  std::filesystem::path state;
  {
    auto created = Lab::create(quiet_config());
    ASSERT_TRUE(created.ok()) << created.error();
    Lab& lab = *created.value();
    labid = lab.id();
    state = lab.state_dir();
    EXPECT_EQ(existing_namespaces(labid).size(), 4u);
    auto record = read_owner_record(state);
    ASSERT_TRUE(record.ok()) << record.error();
    EXPECT_EQ(record->owner_pid, getpid());
    EXPECT_FALSE(record->keep);

    // Every link carries packets.
    const auto& a = lab.addresses();
    for (const auto& [from, to] : std::vector<std::pair<Node, std::string>>{
             {Node::onprem, address_only(a.appliance_lan)},
             {Node::appliance, address_only(a.azure_gw_wan)},
             {Node::vnet, address_only(a.azure_gw_vnet)}}) {
      auto r = ping(lab.netns(from), to, {2, 100ms, 1s});
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_EQ(r->received, 2) << node_title(from) << " -> " << to;
    }
    // Without a tunnel the appliance has no route to the VNet.
    auto blocked = ping(lab.netns(Node::onprem), lab.address(Node::vnet), {1, 100ms, 1s});
    ASSERT_TRUE(blocked.ok()) << blocked.error();
    EXPECT_EQ(blocked->received, 0);
    // Forwarding on in the gateways only.
    EXPECT_EQ(lab.exec(Node::appliance, {"sysctl", "-n", "net.ipv4.ip_forward"}).out, "1\n");
    EXPECT_EQ(lab.exec(Node::onprem, {"sysctl", "-n", "net.ipv4.ip_forward"}).out, "0\n");
    // Nothing of the lab in the root namespace.
    const std::string root_now = host::run_command({"ip", "-4", "addr", "show"}).out;
    EXPECT_EQ(root_now.find(a.appliance_wan), std::string::npos);
    EXPECT_EQ(root_now.find(a.onprem_host), std::string::npos);
  }
  EXPECT_TRUE(existing_namespaces(labid).empty());
  EXPECT_FALSE(std::filesystem::exists(state));
  EXPECT_EQ(host::run_command({"ip", "-4", "addr", "show"}).out, root_before);
}

// Handed to a VM (image/boot-test), the appliance namespace stops routing:
// its links lose their addresses and join bridges with the taps qemu opens,
// and a management tap carries the host's address. Still nothing in the root
// namespace.
TEST(LabTopology, HandedToAVmTheApplianceBridgesItsLinksToTaps) {
  SKIP_WITHOUT_LAB(false);
  const std::string root_before = host::run_command({"ip", "-4", "addr", "show"}).out;
  auto created = Lab::create(quiet_config());
  ASSERT_TRUE(created.ok()) << created.error();
  Lab& lab = *created.value();
  ASSERT_TRUE(hand_appliance_to_vm(lab).ok());

  for (const auto& [port, bridge] : std::vector<std::pair<std::string, std::string>>{
           {kWanIf, "br-wan"}, {kVmWanTap, "br-wan"}, {kLanIf, "br-lan"}, {kVmLanTap, "br-lan"}}) {
    auto line = lab.exec(Node::appliance, {"ip", "-o", "link", "show", "dev", port}).out;
    EXPECT_NE(line.find("master " + bridge), std::string::npos) << port << ": " << line;
  }
  EXPECT_NE(lab.exec(Node::appliance, {"ip", "-d", "-o", "link", "show", "dev", kVmMgmtTap}).out.find("tun type tap"),
            std::string::npos);
  const auto addresses = lab.exec(Node::appliance, {"ip", "-4", "-o", "addr", "show"}).out;
  EXPECT_EQ(addresses.find(address_only(lab.addresses().appliance_wan)), std::string::npos) << addresses;
  EXPECT_EQ(addresses.find(address_only(lab.addresses().appliance_lan)), std::string::npos) << addresses;
  EXPECT_NE(addresses.find(std::string(kVmMgmtTap) + "    inet " + kVmHostMgmt), std::string::npos) << addresses;
  EXPECT_EQ(lab.exec(Node::appliance, {"sysctl", "-n", "net.ipv4.ip_forward"}).out, "0\n");
  EXPECT_EQ(host::run_command({"ip", "-4", "addr", "show"}).out, root_before);
}

// Runs `ergw-lab up ARGS` in the background and returns (pid, labid) once it
// reports the lab up.
struct ToolRun {
  pid_t pid = 0;
  std::string labid;
  std::filesystem::path log;
};

ToolRun start_tool(const std::vector<std::string>& args, const std::filesystem::path& root = "/run/ergw-lab") {
  ToolRun run;
  run.log = std::filesystem::temp_directory_path() /
            ("ergw-lab-tool-" + std::to_string(getpid()) + "-" + std::to_string(std::rand()) + ".log");
  std::vector<std::string> argv = {ERGW_LAB_TOOL, "--state-root", root.string(), "up"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = host::spawn({argv, {}, run.log});
  if (!pid.ok()) return run;
  run.pid = pid.value();
  for (int i = 0; i < 600 && run.labid.empty(); ++i) {
    std::ifstream in(run.log);
    std::stringstream text;
    text << in.rdbuf();
    // "lab <id> up (state ...)"
    const std::string s = text.str();
    const size_t at = s.find("\nlab ") != std::string::npos ? s.find("\nlab ") + 1 : s.rfind("lab ", 0);
    if (at != std::string::npos) {
      const size_t end = s.find(" up", at + 4);
      if (end != std::string::npos) run.labid = s.substr(at + 4, end - at - 4);
    }
    if (!host::process_alive(run.pid)) break;
    std::this_thread::sleep_for(100ms);
  }
  return run;
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LabCleanup, CrashedOwnerIsRemovedByCleanupStale) {
  SKIP_WITHOUT_LAB(true);
  // The owner runs the whole demo (two charons, a tunnel), then dies hard.
  // Its state lives under a root of this test's own: any other lab owner
  // starting meanwhile runs cleanup_stale on /run/ergw-lab and would
  // (rightly) remove the crashed lab before this test looks at it.
  const std::filesystem::path root = "/run/ergw-lab-crashtest-" + std::to_string(getpid());
  // Whatever happens below, nothing of this test outlives it.
  ToolRun run;
  struct RootGuard {
    std::filesystem::path root;
    ToolRun* run;
    ~RootGuard() {
      if (run->pid > 0 && host::process_alive(run->pid)) host::terminate_process(run->pid);
      (void)cleanup_stale(root);
      std::error_code ec;
      std::filesystem::remove(root, ec);
    }
  } guard{root, &run};
  run = start_tool({"--tunnel"}, root);
  ASSERT_FALSE(run.labid.empty()) << "ergw-lab up did not come up:\n" << file_text(run.log);
  auto record = read_owner_record(root / run.labid);
  ASSERT_TRUE(record.ok()) << record.error();
  ASSERT_EQ(record->daemons.size(), 2u);

  kill(run.pid, SIGKILL);
  int status = 0;
  waitpid(run.pid, &status, 0);
  run.pid = 0;
  ASSERT_TRUE(WIFSIGNALED(status));
  // The crash left everything behind: namespaces and orphaned charons.
  EXPECT_EQ(existing_namespaces(run.labid).size(), 4u);
  for (const auto& d : record->daemons) EXPECT_TRUE(host::process_alive(d.pid)) << d.name;
  bool listed_stale = false;
  for (const auto& lab : list_labs(root)) listed_stale |= (lab.labid == run.labid && lab.stale);
  EXPECT_TRUE(listed_stale);

  const auto removed = cleanup_stale(root, test_progress());
  EXPECT_NE(std::find(removed.begin(), removed.end(), run.labid), removed.end());
  EXPECT_TRUE(existing_namespaces(run.labid).empty());
  EXPECT_FALSE(std::filesystem::exists(root / run.labid));
  for (const auto& d : record->daemons) EXPECT_FALSE(host::process_alive(d.pid)) << d.name << " survived cleanup";
  std::filesystem::remove(run.log);
}

void signal_tears_down(int signo) {
  ToolRun run = start_tool({});
  // On a failed assertion the owner is still up: SIGTERM makes it tear down.
  struct OwnerGuard {
    ToolRun* run;
    ~OwnerGuard() {
      if (run->pid > 0 && host::process_alive(run->pid)) host::terminate_process(run->pid);
    }
  } guard{&run};
  ASSERT_FALSE(run.labid.empty()) << "ergw-lab up did not come up:\n" << file_text(run.log);
  EXPECT_EQ(existing_namespaces(run.labid).size(), 4u);
  kill(run.pid, signo);
  int status = 0;
  waitpid(run.pid, &status, 0);
  run.pid = 0;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signo) << file_text(run.log);
  EXPECT_TRUE(existing_namespaces(run.labid).empty());
  EXPECT_FALSE(std::filesystem::exists("/run/ergw-lab/" + run.labid));
  EXPECT_NE(file_text(run.log).find("gone"), std::string::npos) << file_text(run.log);
  std::filesystem::remove(run.log);
}

TEST(LabCleanup, SigtermToTheOwnerTearsDown) {
  SKIP_WITHOUT_LAB(false);
  signal_tears_down(SIGTERM);
}

TEST(LabCleanup, SigintToTheOwnerTearsDown) {
  SKIP_WITHOUT_LAB(false);
  signal_tears_down(SIGINT);
}

TEST(LabCleanup, KeptLabOutlivesItsOwnerUntilTornDown) {
  SKIP_WITHOUT_LAB(false);
  LabConfig config = quiet_config();
  config.keep = true;
  std::string labid;
  {
    auto created = Lab::create(config);
    ASSERT_TRUE(created.ok()) << created.error();
    labid = created.value()->id();
  }
  EXPECT_EQ(existing_namespaces(labid).size(), 4u);
  auto record = read_owner_record("/run/ergw-lab/" + labid);
  ASSERT_TRUE(record.ok()) << record.error();
  EXPECT_TRUE(record->keep);
  const auto removed = cleanup_stale("/run/ergw-lab", test_progress());
  EXPECT_EQ(std::find(removed.begin(), removed.end(), labid), removed.end());
  EXPECT_EQ(existing_namespaces(labid).size(), 4u);

  ASSERT_TRUE(teardown_lab("/run/ergw-lab", labid, test_progress()).ok());
  EXPECT_TRUE(existing_namespaces(labid).empty());
  EXPECT_FALSE(std::filesystem::exists("/run/ergw-lab/" + labid));
}

}  // namespace
}  // namespace ergw::lab
