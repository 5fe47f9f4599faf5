// Which data plane carries ESP, chosen at start from what the kernel offers
// (host/kernel_probe.h: found by trying, not guessed from version numbers) and
// what is installed, and what each one can and cannot do.
//
//  fastpath ergw-fastpath: ergw's userspace ESP over one TUN (ergwfp0), SAs
//           from charon through the ergw-ipsec plugin; connections told apart
//           by route (if_id) and selectors. Chosen by `auto` whenever the
//           fast path and the plugin are installed.
//  kernel   Linux XFRM programmed by charon (kernel-netlink); one xfrm
//           interface per route-based tunnel (if_id), routes into it.
//  libipsec strongSwan's kernel-libipsec: userspace ESP over one TUN (ipsec0)
//           for all connections; it ignores if_id, always encapsulates ESP in
//           UDP/4500 (5.9.8), and is slower. For kernels without ESP.
#pragma once

#include <string>
#include <vector>

#include "gateway/ergwd/connection_plan.h"
#include "gateway/policy/azure_connection.h"
#include "host/kernel_probe.h"

namespace ergw::gateway {

enum class DataPlaneKind { kernel, libipsec, fastpath };

// Where ergwd looks for the fast path (ergwd options).
struct FastpathInstallation {
  std::string binary = "/usr/sbin/ergw-fastpath";
  std::string plugin = "/usr/lib/ipsec/plugins/libstrongswan-ergw-ipsec.so";
};

// Whether the fast path can be used here, with the evidence.
struct FastpathPresence {
  bool binary = false;  // executable
  bool plugin = false;  // charon's ergw-ipsec plugin is where charon loads plugins from
  std::string summary;  // "ergw-fastpath yes (/usr/sbin/ergw-fastpath); ergw-ipsec plugin no (...: not found)"
  bool present() const { return binary && plugin; }
};

FastpathPresence find_fastpath(const FastpathInstallation& installation);

struct DataPlaneChoice {
  DataPlaneKind kind = DataPlaneKind::libipsec;
  std::string why;          // detected or configured, and what the kernel offers
  std::string limitations;  // said plainly at start and in status
};

DataPlaneChoice choose_data_plane(policy::DataPlane configured, const host::KernelOffer& offer,
                                  const FastpathPresence& fastpath);
std::string data_plane_name(DataPlaneKind kind);

// What the configured connections ask of the chosen data plane that it cannot
// do (several route-based connections under libipsec); said at every load and
// in status.
std::vector<std::string> data_plane_warnings(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans);

// The device a route-based tunnel's routes point at.
std::string tunnel_device(DataPlaneKind kind, uint32_t if_id);
inline constexpr const char* kLibipsecDevice = "ipsec0";
inline constexpr const char* kFastpathDevice = "ergwfp0";

}  // namespace ergw::gateway
