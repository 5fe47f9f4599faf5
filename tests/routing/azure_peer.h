// A valid peer as ergwd would build it for an Azure connection with APIPA BGP
// addresses (Azure's ASN and fixed timers filled in); tests change one field
// at a time.
#pragma once

#include "routing/bgp_peer.h"

namespace ergw::routing::testing {

inline IpAddress ip(const char* text) { return *IpAddress::parse(text); }
inline IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

inline BgpPeer azure_apipa_peer() {
  BgpPeer peer;
  peer.name = "azure0";
  peer.local_asn = 65010;
  peer.peer_asn = 65515;
  peer.peer_address = ip("169.254.21.1");
  peer.local_address = ip("169.254.21.2");
  peer.hold_time_seconds = 180;
  peer.keepalive_seconds = 60;
  peer.must_initiate = true;
  peer.tunnel_interface = "ipsec0";
  peer.export_prefixes = {prefix("192.168.10.0/24"), prefix("192.168.20.0/24")};
  peer.vnet_prefixes = {prefix("10.1.0.0/16")};
  peer.kernel_table = 1000;
  return peer;
}

inline BirdConfig config_of(std::vector<BgpPeer> peers) {
  BirdConfig config;
  config.router_id = peers.empty() ? ip("192.0.2.1") : peers.front().local_address;
  config.peers = std::move(peers);
  return config;
}

}  // namespace ergw::routing::testing
