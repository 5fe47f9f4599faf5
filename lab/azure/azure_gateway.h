// The simulated Azure VPN gateway: a model of what Azure's gateway does with
// one site-to-site connection, written from Microsoft's documentation of what
// it offers and accepts, and the strongSwan configuration that makes a charon
// behave so. It reads the connection through the product's reader (the model
// types), never through the product's compiler: the lab's Azure is an
// independent reading of Azure, so a misreading in ergw shows as a failing
// test instead of being mirrored on both sides.
//
// What it models (each behaviour and its Microsoft source: docs/lab.md):
//   - IKE: a custom policy's one proposal, else the six route-based main-mode
//     offers with DH group 2, in Azure's order; the same as initiator and
//     responder. The IKE SA lifetime is fixed at 28,800 s.
//   - CHILD SAs: a custom policy's one proposal, both directions; else, as
//     initiator, the six documented quick-mode offers without PFS, in order.
//     (As responder Azure accepts 26; strongSwan keeps one list per CHILD
//     config for both roles, see initiator_offers_only below.) Lifetime
//     saLifeTimeSeconds (default 27,000 s) and saDataSizeKilobytes.
//   - Identities: its tunnel address (the private one with
//     useLocalAzureIpAddress); any identity from the peer (the PSK decides).
//   - connectionMode: Default dials and accepts, InitiatorOnly dials and
//     ignores the peer's IKE_SA_INIT, ResponderOnly only accepts. Rekeys go
//     either way in every mode.
//   - DPD: the peer is declared dead within dpdTimeoutSeconds.
//   - Traffic selectors: route-based any-to-any; policy-based one CHILD SA
//     per pair of a VNet and an on-prem prefix, proposed only when Azure
//     initiates, and whatever the peer proposes is accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/policy/azure_connection.h"

namespace ergw::azure_lab {

struct AzureChildSa {
  std::string name;
  std::vector<std::string> esp_proposals;
  std::vector<std::string> local_ts;   // Azure's side (the VNet)
  std::vector<std::string> remote_ts;  // on-prem
  int64_t life_time = 0;
  int64_t rekey_time = 0;
  uint64_t life_bytes = 0;
  uint64_t rekey_bytes = 0;
  bool azure_initiates = false;        // proposed by Azure when it dials
};

struct AzureGatewayConfig {
  std::string connection;              // the charon connection name
  std::string local_address;           // Azure's tunnel address
  std::string remote_address;          // the local network gateway's address
  std::string local_id;                // Azure's IKE identity
  std::string remote_id = "%any";      // what Azure accepts from the peer
  std::vector<std::string> ike_proposals;
  int64_t ike_rekey_time = 0;
  int64_t ike_over_time = 0;           // rekey + over = Azure's fixed lifetime
  policy::ConnectionMode mode = policy::ConnectionMode::Default;
  bool dials = false;                  // Azure initiates (Default, InitiatorOnly)
  bool accepts_initiation = true;      // Azure answers an IKE_SA_INIT (Default, ResponderOnly)
  int dpd_timeout_seconds = 0;
  int64_t dpd_delay = 0;
  double retransmit_timeout = 0;       // charon: how DPD gives up within the timeout
  double retransmit_base = 0;
  int retransmit_tries = 0;
  std::vector<AzureChildSa> children;
  // Without a custom policy Azure accepts 26 quick-mode offers as responder
  // but offers 6 as initiator. charon has one list per CHILD config for both
  // roles, and a list with groups would make it send a key exchange when it
  // initiates a rekey; the lab configures the six initiator offers, so as
  // responder it accepts those six only (offers 7-26 are not configured).
  bool initiator_offers_only = false;
  policy::Secret shared_key;
  // Non-zero: every CHILD SA is bound to this XFRM interface id (if_id_in,
  // if_id_out), so that traffic enters the tunnel by route (AzureGatewayOptions).
  uint32_t xfrm_if_id = 0;
};

struct AzureGatewayOptions {
  // The identity Azure presents; empty: its tunnel address. Microsoft
  // documents no way to set it; tests use this to check ergw's remote
  // identity setting against a gateway that presents another one.
  std::string identity;
  // Non-zero when the Azure side's charon programs kernel ESP: its CHILD SAs
  // are bound to the xfrm interface with this id. Azure's gateway is
  // route-based; without an interface the kernel would apply its any-to-any
  // policies to every packet of the namespace, the VNet's included.
  uint32_t xfrm_if_id = 0;
  // Route-based CHILD SAs select the VNet's prefixes on Azure's side instead
  // of any-to-any. Not what Azure does: the lab sets it when one simulated
  // gateway on kernel-libipsec carries several route-based connections,
  // because libipsec picks an SA by its selectors only (no if_id), so two
  // any-to-any SAs could not be told apart. The peer (the appliance) still
  // proposes any-to-any, and charon narrows it to the VNet.
  bool vnet_selectors = false;
  // Active-active: which instance of the gateway this charon plays (an index
  // into azureGateway.tunnelIpAddresses). Each instance is a separate IKE peer
  // on its own tunnel address and presents that address.
  size_t instance = 0;
};

// Azure's side of a connection as one gateway instance plays it (the first
// unless AzureGatewayOptions::instance says otherwise).
AzureGatewayConfig model_azure_gateway(const policy::ConnectionSpec& spec, const AzureGatewayOptions& options = {});

// swanctl.conf for the Azure side's charon. `reveal_secret` false prints
// <redacted> (goldens, humans).
std::string render_azure_swanctl_conf(const AzureGatewayConfig& config, bool reveal_secret);
// The same for several connections (one gateway answering on an address each).
std::string render_azure_swanctl_conf(const std::vector<AzureGatewayConfig>& connections, bool reveal_secret);
// strongswan.conf settings the Azure side's charon must start with (read
// only at start): DPD retransmission, InitiatorOnly, re-dialing. `gateways`:
// how many Azure gateways this one charon plays (one per connection of a
// many-connection lab, each on its own address).
std::string render_azure_charon_settings(const AzureGatewayConfig& config, int gateways = 1);

}  // namespace ergw::azure_lab
