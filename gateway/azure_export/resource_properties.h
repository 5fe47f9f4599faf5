// The `properties` of the two resources ergw exports, in the ARM schema's
// property names and enum spellings (Microsoft.Network API version
// kNetworkApiVersion). The ARM and Bicep renderers print these trees; they
// add only the template's own syntax around them.
#pragma once

#include "gateway/azure_export/azure_side.h"
#include "gateway/azure_export/template_value.h"

namespace ergw::azure_export {

// The Microsoft.Network API version the exported resources are written for.
inline constexpr const char* kNetworkApiVersion = "2024-05-01";
inline constexpr const char* kLocalNetworkGatewayType = "Microsoft.Network/localNetworkGateways";
inline constexpr const char* kConnectionType = "Microsoft.Network/connections";
inline constexpr const char* kVirtualNetworkGatewayType = "Microsoft.Network/virtualNetworkGateways";

// Microsoft.Network/localNetworkGateways properties.
TemplateValue local_network_gateway_properties(const LocalNetworkGateway& gateway);

// Microsoft.Network/connections properties. The PSK is the literal only when
// the export includes keys (side.includes_shared_keys), else a reference to
// the connection's secure parameter.
TemplateValue connection_properties(const Connection& connection, bool include_shared_key);

// ipsecPolicies[0]: all eight fields (Azure refuses a partial policy).
TemplateValue ipsec_policy_properties(const policy::IpsecPolicy& policy);

}  // namespace ergw::azure_export
