// The BGP connection both ergwd BGP unit tests start from: "azure-hub",
// eBGP 65010 <-> Azure's 65515 (hold time 180 s, keepalive 60 s), multihop to
// Azure's GatewaySubnet address, one on-prem prefix exported, the VNet
// 10.0.0.0/16; route-based, if_id 1.
#pragma once

#include "gateway/ergwd/connection_plan.h"
#include "gateway/policy/strongswan_config.h"

namespace ergw::gateway::testing {

inline policy::BgpPeerIntent azure_hub_intent() {
  policy::BgpPeerIntent peer;
  peer.connection = "azure-hub";
  peer.local_asn = 65010;
  peer.peer_asn = 65515;
  peer.local_address = *IpAddress::parse("192.168.255.1");
  peer.peer_address = *IpAddress::parse("10.0.1.30");
  peer.multihop = true;
  // Azure's fixed BGP timers, as the compiler sets them.
  peer.hold_time_seconds = 180;
  peer.keepalive_seconds = 60;
  peer.export_prefixes = {*IpPrefix::parse("192.168.10.0/24")};
  peer.vnet_prefixes = {*IpPrefix::parse("10.0.0.0/16")};
  peer.if_id = 1;
  return peer;
}

inline ConnectionPlan azure_hub_connection() {
  ConnectionPlan plan;
  plan.name = "azure-hub";
  plan.remote = "172.16.0.2";
  plan.children = {"azure-hub"};  // route-based: one CHILD
  plan.if_id = 1;
  return plan;
}

}  // namespace ergw::gateway::testing
