// Azure's default offers for a route-based gateway without a custom policy,
// in the order Azure presents them (docs/azure-facts.md, "Default offers"),
// spelled as strongSwan proposals. ergw proposes exactly these, so that what
// it offers is what Azure offers when it dials.
#pragma once

#include <string>
#include <vector>

namespace ergw::policy {

// IKE (main mode): six encryption/hash pairs, all with DH group 2 (MODP-1024).
const std::vector<std::string>& azure_default_ike_proposals();
// Quick mode offers Azure makes as initiator (1-6, never PFS). As responder
// Azure accepts these and 20 more; ergw needs only these.
const std::vector<std::string>& azure_default_esp_initiator_offers();

}  // namespace ergw::policy
