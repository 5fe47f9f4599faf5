// The Azure policy compiler: pure code, no I/O. A validated configuration goes
// in; the strongSwan connections and secrets that match Azure exactly come out,
// with the routes and BGP peers ergw must set up around them. Every derived
// number is explained in docs/azure-policy.md and in the rendered comments.
#pragma once

#include <optional>
#include <string>

#include "gateway/policy/azure_connection.h"
#include "common/diagnostics.h"
#include "gateway/policy/strongswan_config.h"

namespace ergw::policy {

// strongSwan keywords for Azure's enums (the groups as Azure numbers them:
// docs/azure-facts.md, "Diffie-Hellman groups").
std::string ike_proposal(const IpsecPolicy& policy);
std::string esp_proposal(const IpsecPolicy& policy);
std::string dh_group_keyword(DhGroup group);
std::string pfs_group_keyword(PfsGroup group, DhGroup ike_group);  // "" for None

// CHILD SA lifetimes from saLifeTimeSeconds / saDataSizeKilobytes.
struct ChildLifetimes {
  int64_t rekey_time, life_time, rand_time;
  uint64_t rekey_bytes, life_bytes;
};
ChildLifetimes child_lifetimes(int64_t sa_lifetime_seconds, int64_t sa_data_size_kilobytes);

// IKE SA rekeying that always completes before Azure's fixed 28,800 s.
struct IkeLifetimes {
  int64_t rekey_time, over_time, rand_time;
};
IkeLifetimes ike_lifetimes();

// charon's retransmission settings so that a dead peer is declared within
// the smallest dpdTimeoutSeconds of all connections.
CharonSettings charon_settings_for_dpd(int smallest_dpd_timeout_seconds);
int64_t dpd_delay_for(int dpd_timeout_seconds);

// Compiles ergw's side of every connection. Precondition: validation found no
// errors. Assigns XFRM interface ids to route-based connections that have none.
// (The lab's simulated Azure gateway is configured by its own model in
// lab/azure/, never by this compiler, so that a misreading of Azure here is
// not mirrored there.)
CompiledConfiguration compile(const ApplianceConfig& config);

}  // namespace ergw::policy
