// The data-plane choice (gateway/ergwd/data_plane.h): what the kernel probe
// (host/kernel_probe.h) found and what the configuration asks for. The offers
// are written by hand, with the evidence the probe records on this kind of
// kernel; the probe itself is tested in tests/host.
#include "gateway/ergwd/data_plane.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace ergw::gateway {
namespace {

namespace fs = std::filesystem;

host::KernelOffer offer(bool esp, bool xfrm_interfaces, bool tun = true) {
  host::KernelOffer o;
  o.release = "6.1.0-test";
  o.network_namespaces = {true, "unshare -n true"};
  o.esp = esp ? host::Capability{true, "ip xfrm state add ... proto esp"}
              : host::Capability{false, "Requested type not found"};
  o.esp_gcm = o.esp;
  o.xfrm_interfaces = xfrm_interfaces ? host::Capability{true, "ip link add ... type xfrm"}
                                      : host::Capability{false, "Unknown device type"};
  o.tun = tun ? host::Capability{true, "/dev/net/tun opens"} : host::Capability{false, "No such device"};
  return o;
}

FastpathPresence present(bool binary, bool plugin) {
  FastpathPresence p;
  p.binary = binary;
  p.plugin = plugin;
  p.summary = std::string("ergw-fastpath ") + (binary ? "yes" : "no") + "; ergw-ipsec plugin " + (plugin ? "yes" : "no");
  return p;
}

// Neither ergw-fastpath nor the plugin installed.
const FastpathPresence kNoFastpath = present(false, false);

struct Case {
  policy::DataPlane configured;
  bool esp;
  bool xfrm_interfaces;
  bool tun;
  DataPlaneKind expected;
  const char* why_contains;
};

TEST(DataPlaneChoice, Table) {
  using policy::DataPlane;
  const Case cases[] = {
      {DataPlane::automatic, true, true, true, DataPlaneKind::kernel, "detected: kernel 6.1.0-test: ESP yes"},
      {DataPlane::automatic, false, true, true, DataPlaneKind::libipsec, "ESP no (Requested type not found)"},
      {DataPlane::automatic, true, false, true, DataPlaneKind::libipsec, "xfrm interfaces no (Unknown device type)"},
      {DataPlane::automatic, false, false, true, DataPlaneKind::libipsec, "TUN yes"},
      // Neither works: libipsec is chosen (it names the missing TUN) and the
      // choice says that nothing can carry ESP here.
      {DataPlane::automatic, false, false, false, DataPlaneKind::libipsec, "no data plane can work"},
      {DataPlane::kernel, true, true, true, DataPlaneKind::kernel, "configured (dataPlane: kernel); kernel"},
      // Configured kernel on a kernel without it: obeyed, and said plainly.
      {DataPlane::kernel, false, false, true, DataPlaneKind::kernel, "although the probe found: kernel"},
      {DataPlane::libipsec, true, true, true, DataPlaneKind::libipsec, "configured (dataPlane: libipsec)"},
  };
  for (const auto& c : cases) {
    const auto choice = choose_data_plane(c.configured, offer(c.esp, c.xfrm_interfaces, c.tun), kNoFastpath);
    EXPECT_EQ(choice.kind, c.expected) << c.why_contains;
    EXPECT_NE(choice.why.find(c.why_contains), std::string::npos) << choice.why;
    EXPECT_FALSE(choice.limitations.empty());
  }
}

// Kernel ESP with xfrm interfaces but no TUN: automatic takes the kernel and
// says nothing about libipsec.
TEST(DataPlaneChoice, KernelWithoutTunIsFine) {
  const auto choice = choose_data_plane(policy::DataPlane::automatic, offer(true, true, false), kNoFastpath);
  EXPECT_EQ(choice.kind, DataPlaneKind::kernel);
  EXPECT_EQ(choice.why.find("no data plane"), std::string::npos) << choice.why;
}

TEST(DataPlaneChoice, LibipsecLimitationsAreSaid) {
  const auto choice = choose_data_plane(policy::DataPlane::libipsec, offer(false, false), kNoFastpath);
  EXPECT_NE(choice.limitations.find("if_id is ignored"), std::string::npos);
  EXPECT_NE(choice.limitations.find("UDP/4500"), std::string::npos);
}

TEST(DataPlaneChoice, AutoPicksTheFastPathWheneverItAndThePluginAreInstalled) {
  for (bool esp : {false, true}) {
    const auto c = choose_data_plane(policy::DataPlane::automatic, offer(esp, esp), present(true, true));
    EXPECT_EQ(c.kind, DataPlaneKind::fastpath) << esp;
    EXPECT_NE(c.why.find("the fast path is installed"), std::string::npos) << c.why;
    EXPECT_NE(c.limitations.find("ergwfp0"), std::string::npos);
  }
}

TEST(DataPlaneChoice, AutoWithoutThePluginOrTheBinaryFallsBackAndSaysWhatIsMissing) {
  auto c = choose_data_plane(policy::DataPlane::automatic, offer(false, false), present(true, false));
  EXPECT_EQ(c.kind, DataPlaneKind::libipsec);
  EXPECT_NE(c.why.find("ergw-ipsec plugin no"), std::string::npos) << c.why;
  c = choose_data_plane(policy::DataPlane::automatic, offer(true, true), present(false, true));
  EXPECT_EQ(c.kind, DataPlaneKind::kernel);
  // The fast path needs TUN as libipsec does.
  c = choose_data_plane(policy::DataPlane::automatic, offer(false, false, false), present(true, true));
  EXPECT_EQ(c.kind, DataPlaneKind::libipsec);
  EXPECT_NE(c.why.find("no data plane can work"), std::string::npos) << c.why;
}

TEST(DataPlaneChoice, ConfiguredFastpathIsKeptAndSaysWhatIsMissing) {
  const auto c = choose_data_plane(policy::DataPlane::fastpath, offer(true, true), present(false, true));
  EXPECT_EQ(c.kind, DataPlaneKind::fastpath);
  EXPECT_NE(c.why.find("configured (dataPlane: fastpath) although"), std::string::npos) << c.why;
  EXPECT_EQ(choose_data_plane(policy::DataPlane::libipsec, offer(false, false, false), present(true, true)).kind,
            DataPlaneKind::libipsec);
  EXPECT_EQ(tunnel_device(DataPlaneKind::fastpath, 7), "ergwfp0");
  EXPECT_EQ(data_plane_name(DataPlaneKind::fastpath), "fastpath");
}

TEST(DataPlaneChoice, FindFastpathChecksTheFilesItIsGiven) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("ergw-find-fastpath-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto binary = dir / "ergw-fastpath";
  const auto plugin = dir / "libstrongswan-ergw-ipsec.so";
  std::ofstream(binary) << "#!/bin/sh\n";
  std::ofstream(plugin) << "";
  auto p = find_fastpath({binary.string(), plugin.string()});
  EXPECT_FALSE(p.binary) << "not executable yet: " << p.summary;
  ::chmod(binary.c_str(), 0755);
  p = find_fastpath({binary.string(), plugin.string()});
  EXPECT_TRUE(p.present()) << p.summary;
  p = find_fastpath({binary.string(), (dir / "missing.so").string()});
  EXPECT_FALSE(p.present());
  EXPECT_NE(p.summary.find("missing.so: No such file or directory"), std::string::npos) << p.summary;
  fs::remove_all(dir);
}

TEST(DataPlaneChoice, TunnelDevices) {
  EXPECT_EQ(tunnel_device(DataPlaneKind::libipsec, 7), "ipsec0");
  EXPECT_EQ(tunnel_device(DataPlaneKind::kernel, 7), "ergw7");
  EXPECT_EQ(data_plane_name(DataPlaneKind::kernel), "kernel");
  EXPECT_EQ(data_plane_name(DataPlaneKind::libipsec), "libipsec");
}

}  // namespace
}  // namespace ergw::gateway
