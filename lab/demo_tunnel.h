// A hand-written route-based PSK tunnel between the lab's appliance and its
// simulated Azure gateway: IKEv2, aes256-sha256-modp2048, ESP aes256gcm16,
// traffic selectors 0.0.0.0/0 both ways, the appliance initiating. It is what
// the lab runs before ergwd and the policy compiler drive the appliance, and
// what the integration tests use as their known-good baseline.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"
#include "lab/lab.h"

namespace ergw::lab {

struct DemoTunnelSide {
  std::string connection;      // connection and child name, e.g. "azure"
  std::string local_address;
  std::string remote_address;
};

// swanctl.conf text for one side. The PSK is written into the file only; the
// file is created 0600 by write_demo_swanctl_conf.
std::string render_demo_swanctl_conf(const DemoTunnelSide& side, const std::string& psk);
Status write_demo_swanctl_conf(const std::filesystem::path& path, const DemoTunnelSide& side,
                               const std::string& psk);

// A fresh random PSK (32 bytes from /dev/urandom, hex).
std::string random_psk();

inline constexpr const char* kApplianceConnection = "azure";    // on the appliance
inline constexpr const char* kAzureGwConnection = "onprem";     // on the simulated Azure gateway

// Starts charon in appliance and azure-gw (if not yet running), loads the
// demo configuration, initiates from the appliance and routes the VNet prefix
// (appliance) and the on-prem prefix (azure-gw) into ipsec0.
Status bring_up_demo_tunnel(Lab& lab);

// After a charon restart: reload both sides' configuration, initiate again
// from the appliance and put the routes back (they vanish with ipsec0).
Status reestablish_demo_tunnel(Lab& lab);

}  // namespace ergw::lab
