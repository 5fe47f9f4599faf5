// The data-plane choice (gateway/ergwd/data_plane.h): what the probe found
// and what the configuration asks for.
#include "gateway/ergwd/data_plane.h"

#include <gtest/gtest.h>

namespace ergw::gateway {
namespace {

KernelOffer offer(bool esp, bool xfrm_interfaces) {
  KernelOffer o;
  o.esp = esp;
  o.xfrm_interfaces = xfrm_interfaces;
  o.detail = std::string("kernel ESP: ") + (esp ? "yes" : "no (Protocol not supported)") +
             "; xfrm interfaces: " + (xfrm_interfaces ? "yes" : "no (Unknown device type)");
  return o;
}

struct Case {
  policy::DataPlane configured;
  bool esp;
  bool xfrm_interfaces;
  DataPlaneKind expected;
  const char* why_contains;
};

TEST(DataPlaneChoice, Table) {
  const Case cases[] = {
      {policy::DataPlane::automatic, true, true, DataPlaneKind::kernel, "detected: kernel ESP: yes"},
      {policy::DataPlane::automatic, false, true, DataPlaneKind::libipsec, "kernel ESP: no"},
      {policy::DataPlane::automatic, true, false, DataPlaneKind::libipsec, "xfrm interfaces: no"},
      {policy::DataPlane::automatic, false, false, DataPlaneKind::libipsec, "detected"},
      {policy::DataPlane::kernel, true, true, DataPlaneKind::kernel, "configured (dataPlane: kernel)"},
      // Configured kernel on a kernel without it: obeyed, and said plainly.
      {policy::DataPlane::kernel, false, false, DataPlaneKind::kernel, "although the probe found"},
      {policy::DataPlane::libipsec, true, true, DataPlaneKind::libipsec, "configured (dataPlane: libipsec)"},
  };
  for (const auto& c : cases) {
    const auto choice = choose_data_plane(c.configured, offer(c.esp, c.xfrm_interfaces));
    EXPECT_EQ(choice.kind, c.expected) << c.why_contains;
    EXPECT_NE(choice.why.find(c.why_contains), std::string::npos) << choice.why;
    EXPECT_FALSE(choice.limitations.empty());
  }
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
