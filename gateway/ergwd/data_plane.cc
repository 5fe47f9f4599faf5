#include "gateway/ergwd/data_plane.h"

#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::gateway {

std::string data_plane_name(DataPlaneKind kind) { return kind == DataPlaneKind::kernel ? "kernel" : "libipsec"; }

DataPlaneChoice choose_data_plane(policy::DataPlane configured, const host::KernelOffer& offer) {
  DataPlaneChoice c;
  const bool kernel_ok = offer.carries_kernel_esp();
  switch (configured) {
    case policy::DataPlane::kernel:
      c.kind = DataPlaneKind::kernel;
      c.why = std::string("configured (dataPlane: kernel)") + (kernel_ok ? "; " : " although the probe found: ") +
              offer.summary();
      break;
    case policy::DataPlane::libipsec:
      c.kind = DataPlaneKind::libipsec;
      c.why = "configured (dataPlane: libipsec); " + offer.summary();
      break;
    case policy::DataPlane::automatic:
      c.kind = kernel_ok ? DataPlaneKind::kernel : DataPlaneKind::libipsec;
      c.why = "detected: " + offer.summary();
      if (!kernel_ok && !offer.carries_libipsec()) c.why += "; neither data plane can work on this kernel";
      break;
  }
  c.limitations = c.kind == DataPlaneKind::kernel
                      ? "kernel XFRM: one xfrm interface per route-based tunnel; ESP offloads as the NIC allows"
                      : "libipsec: userspace ESP over one TUN (ipsec0) shared by all connections; if_id is ignored, "
                        "so only one route-based connection can be told apart; policy-based local selectors must "
                        "include an address of the appliance (libipsec routes with it as source); ESP always in "
                        "UDP/4500; slower than the kernel, not for high traffic";
  return c;
}

std::string tunnel_device(DataPlaneKind kind, uint32_t if_id) {
  return kind == DataPlaneKind::kernel ? xfrm::xfrm_interface_name(if_id) : kLibipsecDevice;
}

}  // namespace ergw::gateway
