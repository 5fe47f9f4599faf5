// What the Azure VPN Gateway fixes about a BGP session, in one place, with the
// source for each value (see shared design note azure.md §4 and §5).
#pragma once

#include <cstdint>

namespace ergw::routing {

// Azure's default ASN, used "whether BGP is enabled or not" (VPN FAQ, BGP section).
inline constexpr uint32_t kAzureDefaultAsn = 65515;

// "The BGP keepalive timer is 60 seconds, and the hold timer is 180 seconds.
// Azure VPN Gateways use fixed timer values" (VPN FAQ). A CPE with a shorter
// hold time sees session resets; Azure will not negotiate down.
inline constexpr int kAzureHoldTimeSeconds = 180;
inline constexpr int kAzureKeepaliveSeconds = 60;

// Azure accepts "up to 4,000 prefixes. The BGP session is dropped if the
// number of prefixes exceeds the limit." (VPN FAQ)
inline constexpr int kAzureMaxAcceptedPrefixes = 4000;

// Custom APIPA BGP addresses must come from 169.254.21.0-169.254.22.255
// (bgp-howto.md, "Azure-reserved APIPA address range for VPN").
inline constexpr uint32_t kAzureApipaFirst = (169u << 24) | (254u << 16) | (21u << 8) | 0u;
inline constexpr uint32_t kAzureApipaLast = (169u << 24) | (254u << 16) | (22u << 8) | 255u;

// TCP MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN; RFC 2385 sets no limit).
inline constexpr int kMaxTcpMd5KeyLength = 80;

}  // namespace ergw::routing
