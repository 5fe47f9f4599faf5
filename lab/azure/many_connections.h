// N site-to-site connections in one lab: an ergw configuration with `count`
// route-based connections made from one base connection, and the addresses the
// lab gives the simulated Azure gateway so that it answers on every one of
// them (one gateway, one tunnel address per connection: as many Azure VPN
// gateways, or one VpnGw4/5 with 100 local network gateways, look to the
// appliance). The Azure side is then configured from this file by the lab's
// own model of Azure, like every other lab configuration.
//
//   connection i (0-based)   name <base>-NNN (NNN = i + 1, three digits)
//   Azure's tunnel address   i = 0: the lab's Azure address (172.16.0.2),
//                            else 172.16.1.<i> (routed to azure-gw by the lab)
//   VNet prefixes            i = 0: the base connection's (they hold the VNet host),
//                            else 10.1.<i>.0/24: every tunnel its own routes
//                            (vnet-host answers on 10.1.<i>.10)
//   shared key               the base key followed by NNN: every tunnel its own key
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ergw::azure_lab {

// At most 255 connections: the addressing above has room for no more
// (Azure's largest SKUs, VpnGw4/5 and their AZ variants, allow 100).
inline constexpr int kMaxLabConnections = 255;

// The configuration: `base` with its first connection repeated `count` times
// as above. `connection_mode` (Azure's connectionMode) replaces the base's when
// not empty. The base must be route-based and without BGP.
Result<nlohmann::json> many_connections(const nlohmann::json& base, int count, const std::string& connection_mode = {});

// The name of connection `index` (0-based) of a configuration from `base_name`.
std::string many_connection_name(const std::string& base_name, int index);
// Azure's tunnel address of connection `index` (0-based) beyond the first.
std::string extra_azure_tunnel_address(int index);
// The VNet prefix of connection `index` >= 1, and the address vnet-host has in
// it (AzureLab gives it, kFurtherVnetHostOffset).
std::string extra_vnet_prefix(int index);
std::string extra_vnet_address(int index);

}  // namespace ergw::azure_lab
