// Azure's default offers for a route-based gateway without a custom policy,
// in the order Azure presents them (../shared/design/azure.md §2.1, §2.2),
// spelled as strongSwan proposals.
#pragma once

#include <string>
#include <vector>

namespace ergw::policy {

// IKE (main mode): six encryption/hash pairs, all with DH group 2 (MODP-1024).
const std::vector<std::string>& azure_default_ike_proposals();
// Quick mode offers Azure makes as initiator (1-6, never PFS).
const std::vector<std::string>& azure_default_esp_initiator_offers();
// Quick mode offers Azure accepts as responder (1-26; 8-26 carry PFS groups).
const std::vector<std::string>& azure_default_esp_responder_offers();

}  // namespace ergw::policy
