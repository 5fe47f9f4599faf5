// The numbers ergw takes from Azure's documentation, each defined once. Every
// constant names the section of docs/azure-facts.md that states the fact in
// our words, with the Microsoft page it comes from. The enums are in
// azure_enums.h, Azure's default offers in azure_defaults.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ergw::policy {

// --- IPsec/IKE (docs/azure-facts.md, "Lifetimes, data sizes, DPD") ---------

// CHILD SA (quick mode) lifetime when no custom policy is set, and the
// minimum a custom policy may give. Azure documents no maximum; its
// PowerShell cmdlet accepts at most 172,799 s.
inline constexpr int64_t kAzureDefaultSaLifetimeSeconds = 27'000;
inline constexpr int64_t kAzureMinSaLifetimeSeconds = 300;
inline constexpr int64_t kAzurePowerShellMaxSaLifetimeSeconds = 172'799;
// CHILD SA volume limit (KB), its default and minimum.
inline constexpr int64_t kAzureDefaultSaDataSizeKilobytes = 102'400'000;
inline constexpr int64_t kAzureMinSaDataSizeKilobytes = 1'024;
// The ARM spec types these numbers as int32.
inline constexpr int64_t kArmInt32Max = 2'147'483'647;
// The IKE SA lifetime: fixed, not configurable.
inline constexpr int64_t kAzureIkeSaLifetimeSeconds = 28'800;
// dpdTimeoutSeconds: default, range, and the range Azure recommends.
inline constexpr int kAzureDefaultDpdTimeoutSeconds = 45;
inline constexpr int kAzureMinDpdTimeoutSeconds = 9;
inline constexpr int kAzureMaxDpdTimeoutSeconds = 3'600;
inline constexpr int kAzureRecommendedMinDpdTimeoutSeconds = 30;

// --- TCP MSS (docs/azure-facts.md, "S2S VPN over ExpressRoute private peering") ---

// "About VPN devices and IPsec/IKE parameters": clamp TCP MSS at 1350 (or set
// the tunnel MTU to 1400); Azure fragments neither ESP nor what it carries.
inline constexpr int kAzureTcpMss = 1'350;
// tcpMss's range: IPv4's minimum MSS (RFC 879: 576 - 40) up to a 1500-byte
// path without any tunnel (1500 - 40).
inline constexpr int kMinTcpMss = 536;
inline constexpr int kMaxTcpMss = 1'460;

// --- BGP (docs/azure-facts.md, "BGP") ---------------------------------------

// The gateway's ASN unless changed.
inline constexpr uint32_t kAzureDefaultAsn = 65'515;
// Fixed timers; Azure does not negotiate them down.
inline constexpr int kAzureBgpHoldTimeSeconds = 180;
inline constexpr int kAzureBgpKeepaliveSeconds = 60;
// Above this many prefixes from the peer, Azure drops the session.
inline constexpr size_t kAzureMaxAcceptedPrefixes = 4'000;
// The APIPA range Azure reserves for VPN BGP addresses: 169.254.21.0 -
// 169.254.22.255 (host order).
inline constexpr uint32_t kAzureApipaFirst = (169u << 24) | (254u << 16) | (21u << 8) | 0u;
inline constexpr uint32_t kAzureApipaLast = (169u << 24) | (254u << 16) | (22u << 8) | 255u;

}  // namespace ergw::policy
