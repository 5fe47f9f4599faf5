// Which data plane carries ESP, chosen at start from what the kernel offers
// (host/kernel_probe.h: found by trying, not guessed from version numbers),
// and what each one can and cannot do.
//
//  kernel   Linux XFRM programmed by charon (kernel-netlink); one xfrm
//           interface per route-based tunnel (if_id), routes into it.
//  libipsec strongSwan's kernel-libipsec: userspace ESP over one TUN (ipsec0)
//           for all connections; it ignores if_id, always encapsulates ESP in
//           UDP/4500 (5.9.8), and is slower. For kernels without ESP.
#pragma once

#include <string>

#include "gateway/policy/azure_connection.h"
#include "host/kernel_probe.h"

namespace ergw::gateway {

enum class DataPlaneKind { kernel, libipsec };

struct DataPlaneChoice {
  DataPlaneKind kind = DataPlaneKind::libipsec;
  std::string why;          // detected or configured, and what the kernel offers
  std::string limitations;  // said plainly at start and in status
};

DataPlaneChoice choose_data_plane(policy::DataPlane configured, const host::KernelOffer& offer);
std::string data_plane_name(DataPlaneKind kind);

// The device a route-based tunnel's routes point at.
std::string tunnel_device(DataPlaneKind kind, uint32_t if_id);
inline constexpr const char* kLibipsecDevice = "ipsec0";

}  // namespace ergw::gateway
