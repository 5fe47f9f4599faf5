// The status report ergwd gives `ergw status` (and, later, the REST API):
// per connection the IKE and CHILD SA states, the algorithms actually
// negotiated, SPIs, traffic counters, times, routes and the last error with
// its reason. No secret is ever part of it.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/ergwd/reconciler.h"
#include "vici/sa_info.h"

namespace ergw::gateway {

nlohmann::json build_status(const Reconciler& reconciler, const std::vector<vici::IkeSaInfo>& sas,
                            const std::string& sas_error);

}  // namespace ergw::gateway
