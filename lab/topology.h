// The lab's network: four namespaces joined by three veth links (and a fifth
// namespace with two more links for an active-active Azure gateway).
//
//   onprem-host --eth0/lan0-- appliance --wan0/wan0-- azure-gw --lan0/eth0-- vnet-host
//
// Hosts get a default route to their gateway; the gateways forward, have
// rp_filter off (kernel-libipsec injects decrypted packets on its TUN) and no
// default route: what goes into the tunnel is routed there by the caller.
#pragma once

#include <string>

#include "common/result.h"
#include "lab/lab_config.h"

namespace ergw::lab {

// Creates the namespaces, links, addresses, routes and sysctls. On failure the
// caller tears down (teardown_topology is safe on a half-built lab).
// `azure_instances` 2 adds the second Azure instance's namespace and links
// (lab_config.h, kSecondWanIf).
Status build_topology(const std::string& labid, const LabAddresses& addresses, const ProgressSink& progress,
                      int azure_instances = 1);

// Deletes the lab's namespaces (and with them every link and the processes
// inside). Returns the first error but tries every namespace.
Status teardown_topology(const std::string& labid);

}  // namespace ergw::lab
