// The data-plane choice (gateway/ergwd/data_plane.h): what the kernel probe
// (host/kernel_probe.h) found and what the configuration asks for. The offers
// are written by hand, with the evidence the probe records on this kind of
// kernel; the probe itself is tested in tests/host.
#include "gateway/ergwd/data_plane.h"

#include <gtest/gtest.h>

namespace ergw::gateway {
namespace {

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
      {DataPlane::automatic, false, false, false, DataPlaneKind::libipsec, "neither data plane can work"},
      {DataPlane::kernel, true, true, true, DataPlaneKind::kernel, "configured (dataPlane: kernel); kernel"},
      // Configured kernel on a kernel without it: obeyed, and said plainly.
      {DataPlane::kernel, false, false, true, DataPlaneKind::kernel, "although the probe found: kernel"},
      {DataPlane::libipsec, true, true, true, DataPlaneKind::libipsec, "configured (dataPlane: libipsec)"},
  };
  for (const auto& c : cases) {
    const auto choice = choose_data_plane(c.configured, offer(c.esp, c.xfrm_interfaces, c.tun));
    EXPECT_EQ(choice.kind, c.expected) << c.why_contains;
    EXPECT_NE(choice.why.find(c.why_contains), std::string::npos) << choice.why;
    EXPECT_FALSE(choice.limitations.empty());
  }
}

// Kernel ESP with xfrm interfaces but no TUN: automatic takes the kernel and
// says nothing about libipsec.
TEST(DataPlaneChoice, KernelWithoutTunIsFine) {
  const auto choice = choose_data_plane(policy::DataPlane::automatic, offer(true, true, false));
  EXPECT_EQ(choice.kind, DataPlaneKind::kernel);
  EXPECT_EQ(choice.why.find("neither"), std::string::npos) << choice.why;
}

TEST(DataPlaneChoice, LibipsecLimitationsAreSaid) {
  const auto choice = choose_data_plane(policy::DataPlane::libipsec, offer(false, false));
  EXPECT_NE(choice.limitations.find("if_id is ignored"), std::string::npos);
  EXPECT_NE(choice.limitations.find("UDP/4500"), std::string::npos);
}

TEST(DataPlaneChoice, TunnelDevices) {
  EXPECT_EQ(tunnel_device(DataPlaneKind::libipsec, 7), "ipsec0");
  EXPECT_EQ(tunnel_device(DataPlaneKind::kernel, 7), "ergw7");
  EXPECT_EQ(data_plane_name(DataPlaneKind::kernel), "kernel");
  EXPECT_EQ(data_plane_name(DataPlaneKind::libipsec), "libipsec");
}

}  // namespace
}  // namespace ergw::gateway
