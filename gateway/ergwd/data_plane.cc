#include "gateway/ergwd/data_plane.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::gateway {
namespace {

// "name yes (path)" or "name no (path: reason)".
std::string evidence(const char* name, const std::string& path, int mode, bool& present) {
  present = !path.empty() && ::access(path.c_str(), mode) == 0;
  if (present) return std::string(name) + " yes (" + path + ")";
  return std::string(name) + " no (" + (path.empty() ? "no path given" : path + ": " + std::strerror(errno)) + ")";
}

const char* limitations_of(DataPlaneKind kind) {
  switch (kind) {
    case DataPlaneKind::kernel:
      return "kernel XFRM: one xfrm interface per route-based tunnel; ESP offloads as the NIC allows";
    case DataPlaneKind::fastpath:
      return "ergw-fastpath: userspace ESP over one TUN (ergwfp0) shared by all connections, told apart by route "
             "(if_id) and selectors; AES-GCM-16 or AES-CBC with HMAC-SHA1/SHA2-256/SHA2-384, tunnel mode, ESP raw "
             "or in UDP/4500";
    case DataPlaneKind::libipsec:
      break;
  }
  return "libipsec: userspace ESP over one TUN (ipsec0) shared by all connections; if_id is ignored, so only one "
         "route-based connection can be told apart; policy-based local selectors must include an address of the "
         "appliance (libipsec routes with it as source); ESP always in UDP/4500; slower than the kernel, not for "
         "high traffic";
}

}  // namespace

std::string data_plane_name(DataPlaneKind kind) {
  switch (kind) {
    case DataPlaneKind::kernel: return "kernel";
    case DataPlaneKind::fastpath: return "fastpath";
    case DataPlaneKind::libipsec: break;
  }
  return "libipsec";
}

FastpathPresence find_fastpath(const FastpathInstallation& installation) {
  FastpathPresence p;
  p.summary = evidence("ergw-fastpath", installation.binary, X_OK, p.binary) + "; " +
              evidence("ergw-ipsec plugin", installation.plugin, R_OK, p.plugin);
  return p;
}

DataPlaneChoice choose_data_plane(policy::DataPlane configured, const host::KernelOffer& offer,
                                  const FastpathPresence& fastpath) {
  DataPlaneChoice c;
  const bool kernel_ok = offer.carries_kernel_esp();
  const bool fastpath_ok = fastpath.present() && offer.tun.present;
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
    case policy::DataPlane::fastpath:
      c.kind = DataPlaneKind::fastpath;
      c.why = std::string("configured (dataPlane: fastpath)") + (fastpath_ok ? "; " : " although: ") +
              fastpath.summary + "; " + offer.summary();
      break;
    case policy::DataPlane::automatic:
      if (fastpath_ok) {
        c.kind = DataPlaneKind::fastpath;
        c.why = "detected: the fast path is installed (" + fastpath.summary + "); " + offer.summary();
      } else {
        c.kind = kernel_ok ? DataPlaneKind::kernel : DataPlaneKind::libipsec;
        c.why = "detected: " + offer.summary() + "; " + fastpath.summary;
        if (!kernel_ok && !offer.carries_libipsec()) c.why += "; no data plane can work on this kernel";
      }
      break;
  }
  c.limitations = limitations_of(c.kind);
  return c;
}

std::vector<std::string> data_plane_warnings(DataPlaneKind kind, const std::vector<ConnectionPlan>& plans) {
  std::vector<std::string> warnings;
  if (kind != DataPlaneKind::libipsec) return warnings;
  std::string names;
  size_t route_based = 0;
  for (const auto& plan : plans) {
    if (plan.if_id == 0) continue;
    ++route_based;
    names += (names.empty() ? "" : ", ") + plan.name;
  }
  if (route_based > 1) {
    warnings.push_back("libipsec cannot carry " + std::to_string(route_based) + " route-based connections side by side (" +
                       names + "): they share ipsec0 and libipsec ignores if_id, so it cannot tell which tunnel a "
                       "packet belongs to; use dataPlane fastpath (or kernel where the kernel has ESP)");
  }
  return warnings;
}

std::string tunnel_device(DataPlaneKind kind, uint32_t if_id) {
  switch (kind) {
    case DataPlaneKind::kernel: return xfrm::xfrm_interface_name(if_id);
    case DataPlaneKind::fastpath: return kFastpathDevice;
    case DataPlaneKind::libipsec: break;
  }
  return kLibipsecDevice;
}

}  // namespace ergw::gateway
