#include "gateway/ergwd/data_plane.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>

#include "xfrm/netlink/xfrm_interface.h"

namespace ergw::gateway {
namespace {

struct Probe {
  int exit_code = -1;
  std::string output;
};

Probe run_shell(const std::string& script) {
  Probe p;
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(script.c_str(), "r"), &pclose);
  if (!pipe) return p;
  std::array<char, 256> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) p.output += buffer.data();
  int status = pclose(pipe.release());
  p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!p.output.empty() && p.output.back() == '\n') p.output.pop_back();
  return p;
}

}  // namespace

KernelOffer probe_kernel() {
  KernelOffer offer;
  // A throwaway network namespace (unshare -n): the probe SA and interface
  // vanish with it. Keys are fixed test values, never used for traffic.
  const auto esp = run_shell(
      "unshare -n ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 mode tunnel "
      "enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f auth-trunc 'hmac(sha256)' "
      "0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f 128 2>&1");
  offer.esp = esp.exit_code == 0;
  const auto xfrmi = run_shell("unshare -n ip link add ergwprobe type xfrm if_id 1 2>&1");
  offer.xfrm_interfaces = xfrmi.exit_code == 0;
  offer.detail = std::string("kernel ESP: ") + (offer.esp ? "yes" : "no (" + esp.output + ")") +
                 "; xfrm interfaces: " + (offer.xfrm_interfaces ? "yes" : "no (" + xfrmi.output + ")");
  return offer;
}

std::string data_plane_name(DataPlaneKind kind) { return kind == DataPlaneKind::kernel ? "kernel" : "libipsec"; }

DataPlaneChoice choose_data_plane(policy::DataPlane configured, const KernelOffer& offer) {
  DataPlaneChoice c;
  const bool kernel_ok = offer.esp && offer.xfrm_interfaces;
  switch (configured) {
    case policy::DataPlane::kernel:
      c.kind = DataPlaneKind::kernel;
      c.why = std::string("configured (dataPlane: kernel)") + (kernel_ok ? "" : " although the probe found: ") +
              (kernel_ok ? "" : offer.detail);
      break;
    case policy::DataPlane::libipsec:
      c.kind = DataPlaneKind::libipsec;
      c.why = "configured (dataPlane: libipsec); " + offer.detail;
      break;
    case policy::DataPlane::automatic:
      c.kind = kernel_ok ? DataPlaneKind::kernel : DataPlaneKind::libipsec;
      c.why = "detected: " + offer.detail;
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
