// One connection as the API shows and takes it: shaped like Azure's
// Microsoft.Network/connections resource ({"name", "properties": {...}}, the
// body ergw already reads) with ergw's own block beside it:
//
//   {"name": "azure-hub",
//    "properties": {...the Azure connection...,
//                   "provisioningState": ..., "connectionStatus": ...,     (read-only)
//                   "ingressBytesTransferred": ..., "egressBytesTransferred": ...},
//    "ergw": {"azureGateway": {...}, "local": {...}, "localNetworkGateway": {...},
//             "interfaceId": 7, "ipsecPolicy": "...", "pfsProbe": false}}
//
// The members under "ergw" are those of policy::kConnectionMembers: shown
// ones come and go; bgpPassword is taken and never shown; key files
// (sharedKeyFile, bgpPasswordFile) are refused.
//
// In the configuration document the same connection is one entry of
// "connections" ({"name", "azure": {...}, "azureGateway", ...}).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/metrics/observation.h"
#include "common/diagnostics.h"

namespace ergw::api {

// The index of the connection named `name` in the document's "connections"
// (the name as ergw reads it: "name", else the Azure object's name).
std::optional<size_t> find_connection(const nlohmann::json& document, const std::string& name);
// Every connection's name, in document order.
std::vector<std::string> connection_names(const nlohmann::json& document);

// Azure's provisioningState of a connection.
enum class Provisioning { succeeded, updating };

// The resource for the entry at `index`, with read-only state from
// `observed` (nullptr: not observed yet).
nlohmann::json connection_resource(const nlohmann::json& document, size_t index, const std::string& name,
                                   const metrics::ConnectionObservation* observed, Provisioning provisioning);

// The configuration entry for a PUT body. The name comes from the URL; a
// name in the body must agree. Every problem goes to `diagnostics` with its
// path in the body; the entry is returned despite errors (so that validation
// can report the rest at once) unless there is nothing to validate.
std::optional<nlohmann::json> connection_entry(const nlohmann::json& body, const std::string& name,
                                               Diagnostics& diagnostics);

// Azure's connectionStatus for an observation: Connected, Connecting,
// NotConnected, or Unknown (not observed).
std::string connection_status(const metrics::ConnectionObservation* observed);

}  // namespace ergw::api
