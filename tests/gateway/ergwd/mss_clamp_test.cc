// The TCP MSS clamp's plan and its nftables script: per tunnel device the
// smallest MSS of its connections (tcpMss, else Azure's 1350 or the device's
// MTU minus 40), none for tcpMss 0 or a policy-based connection in kernel
// mode; the script replaces ergw's own table in one transaction, and nft
// accepts it (checked in a throwaway network namespace when root and nft are
// there); the table of an ergwd that ran before (it stays when ergwd stops)
// is deleted by the first pass even when nothing is to be clamped.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <iterator>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/ergwd/mss_clamp.h"
#include "host/child_process.h"
#include "host/process.h"

namespace ergw::gateway {
namespace {

ConnectionPlan plan(const std::string& name, uint32_t if_id, std::optional<int> tcp_mss = std::nullopt) {
  ConnectionPlan p;
  p.name = name;
  p.if_id = if_id;
  p.tcp_mss = tcp_mss;
  return p;
}

TEST(MssClamp, AzuresNumberUnlessTheMtuOrTheConnectionSaysLess) {
  auto clamps = plan_mss_clamps(DataPlaneKind::fastpath, {plan("hub", 1)}, {});
  ASSERT_EQ(clamps.size(), 1u);
  EXPECT_EQ(clamps[0], (DeviceMss{"ergwfp0", 1350, "hub", "Azure's 1350"}));
  // A tunnel MTU of 1380 (a smaller path): 1380 - 40.
  clamps = plan_mss_clamps(DataPlaneKind::fastpath, {plan("hub", 1)}, {DeviceMtu{"ergwfp0", 1380, "hub", "", true}});
  EXPECT_EQ(clamps[0].mss, 1340);
  EXPECT_EQ(clamps[0].why, "ergwfp0 MTU 1380 - 40");
  // 1438 (AES-GCM in UDP) leaves Azure's 1350.
  clamps = plan_mss_clamps(DataPlaneKind::fastpath, {plan("hub", 1)}, {DeviceMtu{"ergwfp0", 1438, "hub", "", true}});
  EXPECT_EQ(clamps[0].mss, 1350);
  // tcpMss wins, whatever it is.
  clamps = plan_mss_clamps(DataPlaneKind::fastpath, {plan("hub", 1, 1400)}, {});
  EXPECT_EQ(clamps[0], (DeviceMss{"ergwfp0", 1400, "hub", "tcpMss 1400"}));
}

TEST(MssClamp, ASharedDeviceTakesTheSmallestAndZeroIsNoClamp) {
  auto clamps = plan_mss_clamps(DataPlaneKind::libipsec, {plan("a", 1, 1300), plan("b", 2), plan("c", 3, 0)}, {});
  ASSERT_EQ(clamps.size(), 1u);
  EXPECT_EQ(clamps[0], (DeviceMss{"ipsec0", 1300, "a", "tcpMss 1300"}));
  EXPECT_TRUE(plan_mss_clamps(DataPlaneKind::fastpath, {plan("c", 3, 0)}, {}).empty());
}

TEST(MssClamp, KernelModeClampsEachXfrmInterfaceAndNoPolicyBasedConnection) {
  auto clamps = plan_mss_clamps(DataPlaneKind::kernel, {plan("a", 1), plan("b", 2, 1200), plan("pb", 0)}, {});
  ASSERT_EQ(clamps.size(), 2u);
  EXPECT_EQ(clamps[0].device, "ergw1");
  EXPECT_EQ(clamps[0].mss, 1350);
  EXPECT_EQ(clamps[1].device, "ergw2");
  EXPECT_EQ(clamps[1].mss, 1200);
}

TEST(MssClamp, TheScriptReplacesErgwsTableBothWaysPerDevice) {
  const auto script = render_mss_ruleset({DeviceMss{"ergwfp0", 1350, "hub", ""}});
  EXPECT_EQ(script,
            "table inet ergw_mss\n"
            "delete table inet ergw_mss\n"
            "table inet ergw_mss {\n"
            "\tchain forward {\n"
            "\t\ttype filter hook forward priority mangle; policy accept;\n"
            "\t\toifname \"ergwfp0\" tcp flags & (syn | rst) == syn tcp option maxseg size > 1350 tcp option "
            "maxseg size set 1350 comment \"hub\"\n"
            "\t\tiifname \"ergwfp0\" tcp flags & (syn | rst) == syn tcp option maxseg size > 1350 tcp option "
            "maxseg size set 1350 comment \"hub\"\n"
            "\t}\n"
            "}\n");
  EXPECT_EQ(render_mss_ruleset({}), "table inet ergw_mss\ndelete table inet ergw_mss\n");
}

TEST(MssClamp, NftTakesTheScript) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace of its own)";
  if (host::run_command({"nft", "--version"}).exit_code != 0) GTEST_SKIP() << "no nft (Debian package nftables)";
  const auto file = std::filesystem::path(::testing::TempDir()) / ("ergw-mss-" + std::to_string(getpid()) + ".nft");
  for (const auto& clamps : {std::vector<DeviceMss>{{"ergwfp0", 1350, "hub", ""}, {"ergw7", 1200, "b", ""}},
                             std::vector<DeviceMss>{}}) {
    std::ofstream(file) << render_mss_ruleset(clamps);
    // Applied twice in one namespace: the second replaces the first.
    const auto run = host::run_command(
        {"unshare", "-n", "sh", "-c", "nft -f \"$0\" && nft -f \"$0\" && nft list table inet ergw_mss || true",
         file.string()});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(run.err.empty() || clamps.empty()) << run.err;
    if (!clamps.empty()) {
      EXPECT_NE(run.out.find("oifname \"ergw7\" tcp flags syn / syn,rst tcp option maxseg size > 1200 tcp option "
                             "maxseg size set 1200"),
                std::string::npos)
          << run.out;
    }
  }
  std::filesystem::remove(file);
}

// nft stands in as a script that records each script it is given: what
// MssClamp runs, and how often, is the behaviour under test here.
TEST(MssClamp, TheFirstPassDeletesATableLeftByAnEarlierErgwdThenOnlyChangesRunNft) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("ergw-mss-run-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto fake_nft = dir / "nft";
  const auto calls = dir / "calls";
  std::ofstream(fake_nft) << "#!/bin/sh\ncat \"$2\" >> " << calls.string() << "\necho --- >> " << calls.string()
                          << "\n";
  ::chmod(fake_nft.c_str(), 0755);
  boost::asio::io_context io;
  auto launcher = host::make_process_launcher(io.get_executor());
  MssClamp clamp(*launcher, MssClampOptions{fake_nft.string(), (dir / "s.nft").string(), (dir / "s.log").string()});
  const auto read_calls = [&] {
    std::ifstream in(calls);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };

  clamp.set({});
  io.run();
  io.restart();
  EXPECT_EQ(read_calls(), "table inet ergw_mss\ndelete table inet ergw_mss\n---\n");

  clamp.set({});  // nothing changed: no nft
  clamp.set({DeviceMss{"ergwfp0", 1350, "hub", ""}});
  io.run();
  io.restart();
  clamp.set({DeviceMss{"ergwfp0", 1350, "hub", ""}});  // the same again: no nft
  io.run();
  const auto all = read_calls();
  size_t runs = 0;
  for (size_t at = all.find("---\n"); at != std::string::npos; at = all.find("---\n", at + 1)) ++runs;
  EXPECT_EQ(runs, 2u) << all;
  EXPECT_NE(all.find("oifname \"ergwfp0\""), std::string::npos) << all;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ergw::gateway
