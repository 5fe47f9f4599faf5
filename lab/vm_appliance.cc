#include "lab/vm_appliance.h"

#include "lab/netns.h"
#include "lab/try.h"

namespace ergw::lab {
namespace {

// A persistent tap: it exists before qemu opens it by name and after qemu
// ends; deleting the namespace removes it.
Status add_tap(const std::string& ns, const std::string& tap) {
  ERGW_LAB_TRY(ip_in(ns, {"tuntap", "add", "dev", tap, "mode", "tap"}));
  return ip_in(ns, {"link", "set", tap, "up"});
}

// The link `port` (one end of a lab veth) and `tap` in one bridge, the link
// without its address: the VM's NIC takes the place of the namespace's.
Status bridge_link_to_tap(const std::string& ns, const std::string& bridge, const std::string& port,
                          const std::string& tap) {
  ERGW_LAB_TRY(ip_in(ns, {"address", "flush", "dev", port}));
  ERGW_LAB_TRY(ip_in(ns, {"link", "add", bridge, "type", "bridge"}));
  ERGW_LAB_TRY(add_tap(ns, tap));
  ERGW_LAB_TRY(ip_in(ns, {"link", "set", port, "master", bridge}));
  ERGW_LAB_TRY(ip_in(ns, {"link", "set", tap, "master", bridge}));
  return ip_in(ns, {"link", "set", bridge, "up"});
}

}  // namespace

Status hand_appliance_to_vm(const Lab& lab) {
  const std::string ns = lab.netns(Node::appliance);
  lab.progress("[lab " + lab.id() + "] the appliance is a VM: appliance/" + kWanIf + " bridged with tap " + kVmWanTap +
               ", appliance/" + kLanIf + " with tap " + kVmLanTap + ", management tap " + kVmMgmtTap + " (host " +
               kVmHostMgmt + ", VM " + kVmMgmt + ")");
  // The namespace is a hypervisor host now, not a router.
  ERGW_LAB_TRY(sysctl_in(ns, "net.ipv4.ip_forward", "0"));
  ERGW_LAB_TRY(bridge_link_to_tap(ns, "br-wan", kWanIf, kVmWanTap));
  ERGW_LAB_TRY(bridge_link_to_tap(ns, "br-lan", kLanIf, kVmLanTap));
  ERGW_LAB_TRY(add_tap(ns, kVmMgmtTap));
  return ip_in(ns, {"address", "add", kVmHostMgmt, "dev", kVmMgmtTap});
}

}  // namespace ergw::lab
