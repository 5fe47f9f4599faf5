// XFRM interfaces (route-based IPsec in the kernel, Linux >= 4.19): one per
// route-based tunnel, matched to the CHILD SA by if_id. Created with
// RTM_NEWLINK kind "xfrm", IFLA_XFRM_IF_ID and IFLA_XFRM_LINK (the underlay
// device) - what `ip link add NAME type xfrm dev LINK if_id N` sends.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace ergw::xfrm {

struct XfrmInterface {
  std::string name;      // <= 15 characters
  uint32_t if_id = 0;    // non-zero: 0 would match policies without an id
  std::string underlay;  // device the ESP leaves by; empty: none
  uint32_t mtu = 1400;   // Azure: clamp MSS 1350 or set the tunnel MTU to 1400
};

// "ergw<if_id>": stable, within IFNAMSIZ for any 32-bit id.
std::string xfrm_interface_name(uint32_t if_id);

// Creates the interface (an existing one with the same name is replaced) and
// sets it up.
Status create_xfrm_interface(const XfrmInterface& interface);
Status delete_interface(const std::string& name);

}  // namespace ergw::xfrm
