#include "gateway/ergwd/failure_reason.h"

#include <array>

namespace ergw::gateway {

std::optional<FailureReason> classify_charon_log(std::string_view m) {
  struct Pattern {
    std::string_view text;
    std::string_view reason;
    std::string_view hint;
  };
  // Message texts of strongSwan 5.9.8 (src/libcharon/sa/ikev2/...).
  static constexpr std::array<Pattern, 12> kPatterns{{
      {"received AUTHENTICATION_FAILED notify", "authentication failed",
       "Azure refused our PSK: compare the connection's sharedKey with ergw's"},
      {"but MAC mismatched", "authentication failed", "the peer's PSK differs from ergw's"},
      {"no shared key found", "authentication failed", "no PSK for these identities"},
      {"received NO_PROPOSAL_CHOSEN notify", "no proposal chosen",
       "the peer accepts none of ergw's proposals: compare the IPsec/IKE policy on both sides"},
      {"no acceptable proposal found", "no proposal chosen",
       "ergw accepts none of the peer's proposals: compare the IPsec/IKE policy on both sides (PFS at rekey?)"},
      {"received TS_UNACCEPTABLE notify", "traffic selectors unacceptable",
       "the peer refused the traffic selectors: route-based (any-to-any) vs policy-based mismatch"},
      {"giving up after", "peer unreachable",
       "no answer to IKE: check the Azure tunnel address, UDP 500/4500 and ESP on the path"},
      {"peer not responding", "peer unreachable", "no answer to IKE"},
      {"received DELETE for IKE_SA", "deleted by peer", "the peer closed the IKE SA"},
      {"CHILD_SA rekeying failed", "CHILD SA rekey failed", "usually a PFS mismatch: compare pfsGroup on both sides"},
      {"failed to establish CHILD_SA", "CHILD SA failed", "see the preceding reason"},
      {"establishing IKE_SA failed", "IKE SA failed", "see the preceding reason"},
  }};
  for (const auto& p : kPatterns) {
    if (m.find(p.text) != std::string_view::npos) return FailureReason{std::string(p.reason), std::string(p.hint)};
  }
  if (m.find("unacceptable") != std::string_view::npos && m.find("traffic selector") != std::string_view::npos) {
    return FailureReason{"traffic selectors unacceptable", "route-based vs policy-based mismatch"};
  }
  return std::nullopt;
}

}  // namespace ergw::gateway
