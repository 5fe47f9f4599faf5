// Failure classification, table-driven from charon 5.9.8's own log lines:
// every line below was delivered by a real charon (Debian's 5.9.8) as a vici
// "log" event, captured by charon_failures_lab_test with
// ERGW_CAPTURE_CHARON_LOG (see CAPTURES.md). Nothing was edited.
#include "gateway/ergwd/failure_reason.h"

#include <gtest/gtest.h>

#include <set>

namespace ergw::gateway {
namespace {

struct Line {
  const char* text;
  std::optional<TunnelFailure> failure;
};

// The failures, each with the scenario that produced it.
const Line kFailures[] = {
    // ergw dials, Azure's PSK differs
    {"received AUTHENTICATION_FAILED notify error", TunnelFailure::peer_refused_authentication},
    // Azure dials, its PSK differs
    {"tried 1 shared key for '192.0.2.1' - '192.0.2.2', but MAC mismatched", TunnelFailure::psk_mismatch},
    // Azure dials with an IKE proposal ergw does not accept
    {"received proposals unacceptable", TunnelFailure::no_acceptable_proposal},
    // ergw dials, Azure accepts none of its IKE proposals
    {"received NO_PROPOSAL_CHOSEN notify error", TunnelFailure::peer_refused_proposal},
    // Azure dials with another identity, or asks for another of ergw's
    {"no matching peer config found", TunnelFailure::no_connection_for_identities},
    // Azure dials with traffic selectors ergw does not accept
    {"traffic selectors 10.10.1.0/24 === 10.10.9.0/24 unacceptable", TunnelFailure::traffic_selectors_unacceptable},
    // ergw dials with traffic selectors Azure does not accept
    {"received TS_UNACCEPTABLE notify, no CHILD_SA built", TunnelFailure::traffic_selectors_unacceptable},
    // the same, then charon's summary: generic
    {"failed to establish CHILD_SA, keeping IKE_SA", TunnelFailure::child_failed},
    // Azure dials from an address no connection has
    {"no IKE config found for 192.0.2.1...192.0.2.3, sending NO_PROPOSAL_CHOSEN",
     TunnelFailure::no_matching_connection},
    // Azure rekeys the CHILD SA without PFS, ergw requires it
    {"no acceptable proposal found", TunnelFailure::no_acceptable_proposal},
    // Azure does not answer
    {"giving up after 2 retransmits", TunnelFailure::peer_unreachable},
    {"establishing IKE_SA failed, peer not responding", TunnelFailure::peer_unreachable},
    // Azure deletes the IKE SA (or the one its rekey replaced: the tracker tells)
    {"received DELETE for IKE_SA hub[2]", TunnelFailure::deleted_by_peer},
};

// Lines of the same runs that are no failure.
const char* const kNotFailures[] = {
    "initiating IKE_SA hub[1] to 192.0.2.2",
    "192.0.2.2 is initiating an IKE_SA",
    "authentication of '192.0.2.1' (myself) with pre-shared key",
    "authentication of '192.0.2.2' with pre-shared key successful",
    "looking for peer configs matching 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]",
    "selected peer config 'hub'",
    "received proposals: IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048",
    "configured proposals: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384",
    "selected proposal: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384",
    "IKE_SA hub[1] established between 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]",
    "CHILD_SA net{1} established with SPIs 5e85eb26_i 04a93e02_o and TS 10.10.1.0/24 === 10.10.2.0/24",
    "IKE_SA hub[2] rekeyed between 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]",
    "sending DELETE for IKE_SA hub[1]",
    "deleting IKE_SA hub[1] between 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]",
    "IKE_SA deleted",
    "retransmit 1 of request with message ID 0",
    "remote host is behind NAT",
    "peer supports MOBIKE",
    "sending address list update using MOBIKE",
    "scheduling rekeying in 13588s",
    "parsed IKE_AUTH response 1 [ N(AUTH_FAILED) ]",
    "generating IKE_SA_INIT response 0 [ N(NO_PROP) ]",
};

TEST(FailureReason, RealFailureLines) {
  for (const auto& line : kFailures) {
    const auto got = classify_charon_log(line.text);
    ASSERT_TRUE(got) << line.text;
    EXPECT_EQ(*got, *line.failure) << line.text << " -> " << failure_name(*got);
  }
}

TEST(FailureReason, RealLinesThatAreNoFailure) {
  for (const char* text : kNotFailures) {
    const auto got = classify_charon_log(text);
    EXPECT_FALSE(got) << text << " -> " << failure_name(*got);
  }
}

TEST(FailureReason, FactsThatExplainAndAttribute) {
  auto line = read_charon_line("192.0.2.2 is initiating an IKE_SA");
  EXPECT_EQ(line.peer_address, "192.0.2.2");
  EXPECT_TRUE(line.peer_initiates);

  line = read_charon_line("initiating IKE_SA hub[1] to 192.0.2.2");
  EXPECT_EQ(line.peer_address, "192.0.2.2");
  EXPECT_FALSE(line.peer_initiates);

  line = read_charon_line("looking for peer configs matching 192.0.2.1[onprem-gw.example]...192.0.2.2[azure-gw.example]");
  EXPECT_EQ(line.local_address, "192.0.2.1");
  EXPECT_EQ(line.requested_identity, "onprem-gw.example");
  EXPECT_EQ(line.peer_address, "192.0.2.2");
  EXPECT_EQ(line.peer_identity, "azure-gw.example");
  EXPECT_FALSE(line.failure);

  // An initiator that asks for no particular identity of ergw sends %any.
  line = read_charon_line("looking for peer configs matching 192.0.2.1[%any]...192.0.2.2[192.0.2.2]");
  EXPECT_FALSE(line.requested_identity);

  line = read_charon_line("no IKE config found for 192.0.2.1...192.0.2.3, sending NO_PROPOSAL_CHOSEN");
  EXPECT_EQ(line.local_address, "192.0.2.1");
  EXPECT_EQ(line.peer_address, "192.0.2.3");
  EXPECT_EQ(line.failure, TunnelFailure::no_matching_connection);

  line = read_charon_line("authentication of '192.0.2.1' (myself) with pre-shared key");
  EXPECT_EQ(line.local_identity, "192.0.2.1");

  line = read_charon_line("tried 1 shared key for '192.0.2.1' - '192.0.2.2', but MAC mismatched");
  EXPECT_EQ(line.local_identity, "192.0.2.1");
  EXPECT_EQ(line.peer_identity, "192.0.2.2");

  line = read_charon_line("received proposals: ESP:AES_GCM_16_256/NO_EXT_SEQ");
  EXPECT_EQ(line.offered_proposals, "ESP:AES_GCM_16_256/NO_EXT_SEQ");
  line = read_charon_line("configured proposals: ESP:AES_GCM_16_256/ECP_384/NO_EXT_SEQ");
  EXPECT_EQ(line.accepted_proposals, "ESP:AES_GCM_16_256/ECP_384/NO_EXT_SEQ");

  // IPv6 peers: the addresses contain ':' but never "...".
  line = read_charon_line("no IKE config found for 2001:db8::1...2001:db8::2, sending NO_PROPOSAL_CHOSEN");
  EXPECT_EQ(line.local_address, "2001:db8::1");
  EXPECT_EQ(line.peer_address, "2001:db8::2");

  EXPECT_FALSE(read_charon_line("peer supports MOBIKE").says_anything());
}

// strongSwan 5.9.8 wording of failures no lab scenario produced (IKE_AUTH
// corner cases, read from src/libcharon/sa/ikev2/): the patterns exist, so
// they must classify, and nothing else may shadow them.
TEST(FailureReason, SourceWordingOfRarerFailures) {
  EXPECT_EQ(classify_charon_log("no shared key found for '192.0.2.1' - 'azure-gw.example'"),
            TunnelFailure::no_psk_for_identities);
  EXPECT_EQ(classify_charon_log("received IDr onprem-gw.example, but require 192.0.2.1"),
            TunnelFailure::local_identity_refused);
  EXPECT_EQ(classify_charon_log("constraint check failed: identity '192.0.2.2' required "),
            TunnelFailure::identity_constraint_failed);
  EXPECT_EQ(classify_charon_log("CHILD_SA rekeying failed, trying again in 12 seconds"),
            TunnelFailure::child_rekey_failed);
  EXPECT_EQ(classify_charon_log("rekeying IKE_SA failed, peer not responding"), TunnelFailure::peer_unreachable);
  EXPECT_EQ(classify_charon_log("no acceptable traffic selectors found"),
            TunnelFailure::traffic_selectors_unacceptable);
}

TEST(FailureReason, EveryCodeHasNameReasonAndHint) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(TunnelFailure::initiate_refused); ++i) {
    const auto f = static_cast<TunnelFailure>(i);
    EXPECT_FALSE(failure_name(f).empty());
    EXPECT_FALSE(failure_reason(f).empty()) << failure_name(f);
    EXPECT_FALSE(failure_hint(f).empty()) << failure_name(f);
    EXPECT_TRUE(names.insert(failure_name(f)).second) << "duplicate " << failure_name(f);
  }
  // The reasons the lab tests and the operator's scripts look for.
  EXPECT_EQ(failure_reason(TunnelFailure::psk_mismatch), "authentication failed");
  EXPECT_EQ(failure_reason(TunnelFailure::no_acceptable_proposal), "no proposal chosen");
  EXPECT_EQ(failure_reason(TunnelFailure::peer_unreachable), "peer unreachable");
  // Authentication failures say whether the key or the identity is the likely cause.
  EXPECT_EQ(failure_cause(TunnelFailure::psk_mismatch), "pre-shared key");
  EXPECT_EQ(failure_cause(TunnelFailure::no_connection_for_identities), "identity");
  EXPECT_EQ(failure_cause(TunnelFailure::no_psk_for_identities), "identity");
  EXPECT_TRUE(is_generic(TunnelFailure::child_failed));
  EXPECT_FALSE(is_generic(TunnelFailure::psk_mismatch));
}

}  // namespace
}  // namespace ergw::gateway
