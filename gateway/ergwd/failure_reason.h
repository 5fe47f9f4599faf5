// Why a tunnel is not up, in an engineer's words: charon's own log lines
// (vici "log" events, strongSwan 5.9.8 wording) turned into a code, a short
// reason, the likely cause and what to check. charon at its default log
// levels never logs key material; ergw keeps only the message text.
//
// Every failure ergwd reports is a TunnelFailure: those read from charon's
// log and the ones ergwd meets itself (charon refusing a connection or a
// PSK). Code decides on the code, never on the reason's wording.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ergw::gateway {

// code, reason (stable, short; several codes share a reason), likely cause,
// hint. Generic codes ("IKE SA failed") say less than the specific line
// charon logs just before them.
#define ERGW_TUNNEL_FAILURES(X)                                                                                 \
  X(peer_refused_authentication, "authentication failed", "pre-shared key, or an identity ergw sends",         \
    "Azure refused ergw's authentication and does not say why: compare the connection's sharedKey on both "     \
    "sides; if they match, the identities ergw sends (its own, and the one it asks of Azure) must be those "    \
    "Azure uses")                                                                                                \
  X(psk_mismatch, "authentication failed", "pre-shared key",                                                    \
    "the identities matched but the peer's AUTH does not verify with ergw's PSK: the sharedKey differs "        \
    "between Azure and ergw")                                                                                    \
  X(no_psk_for_identities, "authentication failed", "identity",                                                 \
    "ergw holds no PSK for this pair of identities: the peer identified itself otherwise than the "             \
    "connection's remote identity")                                                                              \
  X(no_connection_for_identities, "authentication failed", "identity",                                          \
    "no connection matches the identities in the peer's IKE_AUTH: its own must be the connection's remote "     \
    "identity, and the one it asks of ergw (if any) ergw's local identity")                                     \
  X(local_identity_refused, "authentication failed", "identity",                                                \
    "the peer asked for another identity of ergw than ergw's local identity")                                   \
  X(identity_constraint_failed, "authentication failed", "identity",                                            \
    "the peer authenticated with another identity than the connection requires")                                \
  X(peer_refused_proposal, "no proposal chosen", "IPsec/IKE policy",                                            \
    "the peer accepts none of ergw's proposals: compare the IPsec/IKE policy on both sides (at a rekey: "       \
    "pfsGroup)")                                                                                                 \
  X(no_acceptable_proposal, "no proposal chosen", "IPsec/IKE policy",                                           \
    "ergw accepts none of the peer's proposals: compare the IPsec/IKE policy on both sides (at a rekey: "       \
    "PFS on one side only); with no custom policy Azure offers only MODP-1024 for IKE")                          \
  X(no_matching_connection, "no matching connection", "addresses",                                              \
    "IKE arrived for a pair of addresses no connection has: compare the Azure tunnel address and the "          \
    "appliance's local address with the configuration")                                                         \
  X(traffic_selectors_unacceptable, "traffic selectors unacceptable", "traffic selectors",                      \
    "route-based (any-to-any) vs policy-based mismatch: usePolicyBasedTrafficSelectors and the prefixes must "  \
    "agree on both sides")                                                                                       \
  X(peer_unreachable, "peer unreachable", "network",                                                            \
    "no answer to IKE: check the Azure tunnel address, UDP 500/4500 and ESP on the path")                       \
  X(deleted_by_peer, "deleted by peer", "peer",                                                                 \
    "the peer closed the IKE SA (Azure does when its connection is changed or reset)")                          \
  X(child_rekey_failed, "CHILD SA rekey failed", "IPsec/IKE policy",                                            \
    "usually a PFS mismatch: compare pfsGroup on both sides")                                                   \
  X(child_failed, "CHILD SA failed", "", "see the preceding reason")                                            \
  X(ike_failed, "IKE SA failed", "", "see the preceding reason")                                                \
  X(configuration_refused, "configuration refused by charon", "configuration",                                  \
    "charon rejected the compiled connection (e.g. an algorithm its plugins lack): the detail carries charon's " \
    "message; `ergw policy compile` shows what was sent")                                                        \
  X(key_refused, "PSK refused by charon", "configuration",                                                      \
    "charon did not take the connection's PSK; ergwd tries again at the next pass")                             \
  X(initiate_refused, "initiate refused by charon", "configuration",                                            \
    "charon would not start the connection; the detail carries charon's message")

enum class TunnelFailure {
#define ERGW_TUNNEL_FAILURE_ENUM(code, reason, cause, hint) code,
  ERGW_TUNNEL_FAILURES(ERGW_TUNNEL_FAILURE_ENUM)
#undef ERGW_TUNNEL_FAILURE_ENUM
};

// "psk_mismatch": a stable label (status JSON, metrics).
std::string_view failure_name(TunnelFailure failure);
// "authentication failed"
std::string_view failure_reason(TunnelFailure failure);
// "pre-shared key", "identity", ... ("" when nothing in particular)
std::string_view failure_cause(TunnelFailure failure);
std::string_view failure_hint(TunnelFailure failure);
// Says less than the specific reason charon logs just before it.
bool is_generic(TunnelFailure failure);

// What one charon log line tells: a failure, and/or a fact that explains or
// attributes failures on the same IKE SA (the peer's address, the identities,
// the proposals offered and accepted).
struct CharonLine {
  std::optional<TunnelFailure> failure;
  std::optional<std::string> peer_address;      // "172.16.0.2"
  std::optional<std::string> local_address;
  std::optional<std::string> peer_identity;     // as the peer presented it
  std::optional<std::string> local_identity;    // as ergw presents itself
  std::optional<std::string> requested_identity;  // the identity the peer asked ergw for (IDr)
  std::optional<std::string> offered_proposals;   // "received proposals: ..." (what the peer offered)
  std::optional<std::string> accepted_proposals;  // "configured proposals: ..." (what ergw accepts)
  bool peer_initiates = false;                    // "<address> is initiating an IKE_SA": ergw responds

  bool says_anything() const;
};

CharonLine read_charon_line(std::string_view message);

// Only the failure (nullopt for lines that are not one).
std::optional<TunnelFailure> classify_charon_log(std::string_view message);

}  // namespace ergw::gateway
