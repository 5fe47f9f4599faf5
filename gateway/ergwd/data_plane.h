// Which data plane carries ESP, found at start by trying (in a throwaway
// network namespace) rather than guessed from version numbers, and what each
// one can and cannot do.
//
//  kernel   Linux XFRM programmed by charon (kernel-netlink); one xfrm
//           interface per route-based tunnel (if_id), routes into it.
//  libipsec strongSwan's kernel-libipsec: userspace ESP over one TUN (ipsec0)
//           for all connections; it ignores if_id, always encapsulates ESP in
//           UDP/4500 (5.9.8), and is slower. For kernels without ESP.
#pragma once

#include <string>

#include "gateway/policy/azure_connection.h"

namespace ergw::gateway {

enum class DataPlaneKind { kernel, libipsec };

struct KernelOffer {
  bool esp = false;
  bool xfrm_interfaces = false;
  std::string detail;  // what was tried and what the kernel said
};

// Tries `ip xfrm state add ... proto esp` and `ip link add ... type xfrm` in a
// new network namespace of its own (nothing is left behind).
KernelOffer probe_kernel();

struct DataPlaneChoice {
  DataPlaneKind kind = DataPlaneKind::libipsec;
  std::string why;          // detected or configured, and what the kernel offers
  std::string limitations;  // said plainly at start and in status
};

DataPlaneChoice choose_data_plane(policy::DataPlane configured, const KernelOffer& offer);
std::string data_plane_name(DataPlaneKind kind);

// The device a route-based tunnel's routes point at.
std::string tunnel_device(DataPlaneKind kind, uint32_t if_id);
inline constexpr const char* kLibipsecDevice = "ipsec0";

}  // namespace ergw::gateway
