// The appliance as a virtual machine: the lab hands its appliance namespace
// over to a VM (image/boot-test boots the appliance image under qemu there).
//
//   onprem-host/eth0 -- lan0 [br-lan] vmlan0 (tap) -- VM eth2 (LAN, appliance_lan)
//   azure-gw/wan0    -- wan0 [br-wan] vmwan0 (tap) -- VM eth1 (WAN, appliance_wan)
//                        vmmgmt0 (tap, 192.0.2.1/24) -- VM eth0 (management, 192.0.2.10/24)
//
// The namespace stops routing: its lan0 and wan0 lose their addresses and
// become bridge ports beside tap devices, so the VM's NICs sit on the very
// links the appliance namespace sat on and take its addresses (appliance_lan,
// appliance_wan). A third tap is the management network between the VM and
// its host (the namespace), where the host reaches SSH and the API. qemu,
// run inside the namespace, attaches to the taps by name. Everything stays
// in the lab's namespaces: nothing is added to the root namespace.
#pragma once

#include <string>

#include "common/result.h"
#include "lab/lab.h"

namespace ergw::lab {

inline constexpr const char* kVmWanTap = "vmwan0";
inline constexpr const char* kVmLanTap = "vmlan0";
inline constexpr const char* kVmMgmtTap = "vmmgmt0";
// TEST-NET-1 (RFC 5737): the management network between the host and the VM.
inline constexpr const char* kVmHostMgmt = "192.0.2.1/24";
inline constexpr const char* kVmMgmt = "192.0.2.10/24";

// Turns the lab's appliance namespace into the VM's host side (above).
Status hand_appliance_to_vm(const Lab& lab);

}  // namespace ergw::lab
