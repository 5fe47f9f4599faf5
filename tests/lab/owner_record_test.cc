// The owner record: what cleanup after a crash relies on.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "lab/lab_state.h"
#include "host/process.h"

namespace ergw::lab {
namespace {

OwnerRecord sample() {
  OwnerRecord r;
  r.labid = "4711a";
  r.owner_pid = 4711;
  r.owner_start_time = 123456;
  r.keep = true;
  for (Node n : kAllNodes) r.namespaces.push_back(netns_name("4711a", n));
  r.daemons = {{"charon-appliance", "ergw-4711a-appl", 4800}, {"bird-azure-gw", "ergw-4711a-azgw", 0}};
  return r;
}

TEST(LabOwnerRecord, JsonRoundTrip) {
  const auto back = OwnerRecord::from_json(sample().to_json());
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->labid, "4711a");
  EXPECT_EQ(back->owner_pid, 4711);
  EXPECT_EQ(back->owner_start_time, 123456u);
  EXPECT_TRUE(back->keep);
  EXPECT_EQ(back->namespaces, sample().namespaces);
  ASSERT_EQ(back->daemons.size(), 2u);
  EXPECT_EQ(back->daemons[0].name, "charon-appliance");
  EXPECT_EQ(back->daemons[0].pid, 4800);
  EXPECT_EQ(back->daemons[1].netns, "ergw-4711a-azgw");
}

TEST(LabOwnerRecord, RefusesNamespacesOfOtherLabs) {
  // A damaged or forged record must never make cleanup delete someone else's namespace.
  auto r = sample();
  r.namespaces.push_back("ergw-9999a-appl");
  EXPECT_FALSE(OwnerRecord::from_json(r.to_json()).ok());
  r.namespaces.back() = "production";
  EXPECT_FALSE(OwnerRecord::from_json(r.to_json()).ok());
}

TEST(LabOwnerRecord, RefusesBadLabids) {
  auto r = sample();
  r.labid = "../etc";
  EXPECT_FALSE(OwnerRecord::from_json(r.to_json()).ok());
  EXPECT_FALSE(OwnerRecord::from_json("{not json").ok());
}

TEST(LabOwnerRecord, LivenessUsesPidAndStartTime) {
  OwnerRecord me;
  me.owner_pid = getpid();
  me.owner_start_time = host::process_start_time(getpid()).value();
  EXPECT_TRUE(owner_alive(me));
  me.owner_start_time += 1;  // same pid, another process: the owner is gone
  EXPECT_FALSE(owner_alive(me));
}

// A pid that just ended (reuse within the test is practically impossible).
pid_t dead_pid() {
  const host::CommandResult r = host::run_command({"sh", "-c", "echo $$"});
  return static_cast<pid_t>(std::stol(r.out));
}

class LabStateRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("ergw-lab-state-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void add_lab(const OwnerRecord& r) {
    std::filesystem::create_directories(root_ / r.labid);
    ASSERT_TRUE(write_owner_record(root_ / r.labid, r).ok());
  }
  std::filesystem::path root_;
};

TEST_F(LabStateRoot, OnlyDeadUnkeptOwnersAreStale) {
  const pid_t dead = dead_pid();
  OwnerRecord live;
  live.labid = std::to_string(getpid()) + "a";
  live.owner_pid = getpid();
  live.owner_start_time = host::process_start_time(getpid()).value();
  OwnerRecord crashed;
  crashed.labid = std::to_string(dead) + "a";
  crashed.owner_pid = dead;
  OwnerRecord kept = crashed;
  kept.labid = std::to_string(dead) + "b";
  kept.keep = true;
  add_lab(live);
  add_lab(crashed);
  add_lab(kept);
  // A directory whose owner died before writing its record.
  std::filesystem::create_directories(root_ / (std::to_string(dead) + "c"));

  int stale = 0;
  for (const auto& lab : list_labs(root_)) stale += lab.stale ? 1 : 0;
  EXPECT_EQ(stale, 2);

  // None of these labs has namespaces, so cleanup only removes directories.
  auto removed = cleanup_stale(root_);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{crashed.labid, std::to_string(dead) + "c"}));
  EXPECT_TRUE(std::filesystem::exists(root_ / live.labid));
  EXPECT_TRUE(std::filesystem::exists(root_ / kept.labid));
  EXPECT_FALSE(std::filesystem::exists(root_ / crashed.labid));
}

TEST_F(LabStateRoot, TeardownRefusesPathsThatAreNotLabIds) {
  EXPECT_FALSE(teardown_lab(root_, "../x").ok());
  EXPECT_FALSE(teardown_lab(root_, "").ok());
}

}  // namespace
}  // namespace ergw::lab
