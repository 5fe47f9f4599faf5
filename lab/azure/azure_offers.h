// The Azure VPN gateway's documented default offers, as Microsoft prints them,
// and the lab's own reading of Azure's algorithm names as strongSwan keywords.
// This is the simulated Azure gateway's knowledge, written from Microsoft's
// pages independently of the product (gateway/policy has its own tables): a
// misreading in one is not mirrored in the other. Sources, with URLs, in
// docs/lab.md ("The simulated Azure VPN gateway").
#pragma once

#include <span>
#include <string>

#include "gateway/policy/azure_connection.h"

namespace ergw::azure_lab {

// One main-mode (IKE) offer of a route-based gateway: "AES256, SHA1" with
// Diffie-Hellman group 2 ("About VPN devices", Default IPsec/IKE parameters).
struct IkeOffer {
  const char* encryption;  // AES256, AES128, 3DES
  const char* integrity;   // SHA1, SHA256
  int dh_group;            // IKE group number (2: 1024-bit MODP)
};

// One quick-mode (CHILD SA) offer: "AES256 / SHA1 / 14" (encryption,
// authentication, PFS group; 0 is "None"). "GCM AES256" carries its own
// authentication ("GCM (AES256)").
struct QuickModeOffer {
  const char* encryption;  // GCM AES256, AES256, AES128, 3DES, DES
  const char* integrity;   // GCM (AES256), SHA1, SHA256
  int pfs_group;           // 0, 1, 2, 14, 24
};

// Route-based main mode, offers 1-6, in Azure's order.
std::span<const IkeOffer> default_ike_offers();
// Route-based quick mode, "Azure Gateway as initiator": offers 1-6, no PFS.
std::span<const QuickModeOffer> default_quick_mode_offers_as_initiator();
// Route-based quick mode, "Azure Gateway as responder": offers 1-26.
std::span<const QuickModeOffer> default_quick_mode_offers_as_responder();

// strongSwan proposals for those offers (the lab's own mapping).
std::string strongswan_proposal(const IkeOffer& offer);
std::string strongswan_proposal(const QuickModeOffer& offer);

// strongSwan proposals for a custom policy: Azure then sends and accepts only
// the algorithms the policy names, as initiator and as responder.
std::string custom_ike_proposal(const policy::IpsecPolicy& policy);
std::string custom_esp_proposal(const policy::IpsecPolicy& policy);

}  // namespace ergw::azure_lab
