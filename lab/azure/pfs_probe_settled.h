// Whether ergwd's PFS probe of a connection has settled, read from its status
// (`ergw status --json`'s connections[i]). ergwd rekeys each new IKE SA's
// CHILD SA about a second after the tunnel comes up (new SPIs, counters from
// zero): a lab test or benchmark that takes SPIs or counts a CHILD SA's
// packets, or measures ergwd at rest, waits for this first.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "gateway/cli/status_command.h"

namespace ergw::azure_lab {

// The probe has an outcome (verified, mismatch, inconclusive, or off) and
// every CHILD SA of the connection is installed (the old one of the probe's
// rekey is gone).
inline bool pfs_probe_settled(const nlohmann::json& connection) {
  const std::string probe = connection.value("pfs", nlohmann::json::object()).value("probe", "");
  if (probe != "verified" && probe != "mismatch" && probe != "inconclusive" && probe != "off") return false;
  for (const auto& child : cli::all_children(connection)) {
    if (child.value("state", "") != "INSTALLED") return false;
  }
  return true;
}

}  // namespace ergw::azure_lab
