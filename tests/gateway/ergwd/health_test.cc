// HealthTracker: attribution of charon's failures to connections (also for
// IKE SAs without a connection yet), routine deletes after a rekey, the
// generic-after-specific rule (fake clock), counters. Log lines are charon
// 5.9.8's own (see failure_reason_test.cc for where they come from).
#include "gateway/ergwd/health.h"

#include <gtest/gtest.h>

#include "tests/common/fake_clock.h"
#include "tests/gateway/ergwd/sa_messages.h"

namespace ergw::gateway {
namespace {

using testing::IkeSpec;
using testing::log_event;
using testing::updown_event;

class HealthTest : public ::testing::Test {
 protected:
  HealthTest() : health_(clock_) {
    health_.set_connections({{"hub", "172.16.0.2", {"hub"}, "172.16.0.1", "172.16.0.2"},
                             {"spoke", "172.16.1.2", {"spoke-1", "spoke-2"}, "172.16.0.1", "172.16.1.2"}});
  }
  void log(const std::string& ike, uint64_t id, const std::string& message) {
    health_.on_event("log", log_event(ike, id, message));
  }
  const FailureRecord* last(const std::string& connection) const {
    const auto* h = health_.find(connection);
    return h && h->last_error ? &*h->last_error : nullptr;
  }

  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_{io_};
  HealthTracker health_;
};

TEST_F(HealthTest, NamedLineGoesToItsConnection) {
  log("hub", 3, "received AUTHENTICATION_FAILED notify error");
  const auto* f = last("hub");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->failure, TunnelFailure::peer_refused_authentication);
  EXPECT_EQ(f->detail, "received AUTHENTICATION_FAILED notify error");
  EXPECT_EQ(f->at, clock_.wall_now());
  EXPECT_EQ(health_.find("hub")->failures.at(TunnelFailure::peer_refused_authentication), 1u);
}

TEST_F(HealthTest, ChildNameMapsToItsConnection) {
  log("spoke-2", 9, "received TS_UNACCEPTABLE notify, no CHILD_SA built");
  ASSERT_NE(last("spoke"), nullptr);
  EXPECT_EQ(last("spoke")->failure, TunnelFailure::traffic_selectors_unacceptable);
}

TEST_F(HealthTest, LinesThatAreNoFailureRecordNothing) {
  log("hub", 3, "IKE_SA hub[3] established between 172.16.0.1[172.16.0.1]...172.16.0.2[172.16.0.2]");
  log("hub", 3, "CHILD_SA hub{5} established with SPIs c5c4ab2f_i c99ad9d4_o and TS 0.0.0.0/0 === 0.0.0.0/0");
  EXPECT_EQ(health_.find("hub"), nullptr);
}

// ergw refuses Azure's IKE_SA_INIT: the IKE SA has no connection yet.
TEST_F(HealthTest, UnnamedResponderRefusalIsAttributedByThePeersAddress) {
  log("(unnamed)", 7, "172.16.0.2 is initiating an IKE_SA");
  log("(unnamed)", 7, "received proposals: IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024");
  log("(unnamed)", 7, "configured proposals: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  log("(unnamed)", 7, "received proposals unacceptable");
  const auto* f = last("hub");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->failure, TunnelFailure::no_acceptable_proposal);
  EXPECT_EQ(f->observed,
            "Azure dialled, ergw refused it as responder; the peer (172.16.0.2) offered "
            "IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024; ergw accepts "
            "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384");
  EXPECT_EQ(health_.find("(unnamed)"), nullptr);
  EXPECT_EQ(last("spoke"), nullptr);
}

// When the failure line comes before anything names the peer, the IKE SA's
// down event (which carries remote-host) attributes it.
TEST_F(HealthTest, UnnamedFailureWaitsForTheDownEventsAddress) {
  log("(unnamed)", 8, "no matching peer config found");
  EXPECT_EQ(last("hub"), nullptr);
  EXPECT_TRUE(health_.unattributed().empty());
  health_.on_event("ike-updown",
                   updown_event({.name = "(unnamed)", .uniqueid = 8, .state = "CONNECTING", .remote = "172.16.1.2"},
                                false));
  ASSERT_NE(last("spoke"), nullptr);
  EXPECT_EQ(last("spoke")->failure, TunnelFailure::no_connection_for_identities);
  // No connection changed state.
  EXPECT_TRUE(health_.find("spoke")->last_change.empty());
}

TEST_F(HealthTest, UnknownIdentityNamesWhatThePeerSentAndWhatIsExpected) {
  log("(unnamed)", 4, "172.16.0.2 is initiating an IKE_SA");
  log("(unnamed)", 4, "looking for peer configs matching 172.16.0.1[%any]...172.16.0.2[azure-gw.example]");
  log("(unnamed)", 4, "no matching peer config found");
  const auto* f = last("hub");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->failure, TunnelFailure::no_connection_for_identities);
  EXPECT_EQ(failure_cause(f->failure), "identity");
  EXPECT_NE(f->observed.find("identified itself as 'azure-gw.example'"), std::string::npos) << f->observed;
  EXPECT_NE(f->observed.find("connection hub expects '172.16.0.2'"), std::string::npos) << f->observed;
}

TEST_F(HealthTest, PeerWithNoConnectionIsKeptApart) {
  log("(unnamed)", 5, "no IKE config found for 172.16.0.1...203.0.113.9, sending NO_PROPOSAL_CHOSEN");
  ASSERT_EQ(health_.unattributed().size(), 1u);
  EXPECT_EQ(health_.unattributed().front().peer_address, "203.0.113.9");
  EXPECT_EQ(health_.unattributed().front().record.failure, TunnelFailure::no_matching_connection);
  EXPECT_EQ(last("hub"), nullptr);
}

TEST_F(HealthTest, UnattributedFailuresAreBounded) {
  for (uint64_t i = 0; i < 20; ++i) {
    log("(unnamed)", 100 + i, "no IKE config found for 172.16.0.1...203.0.113." + std::to_string(i) +
                                  ", sending NO_PROPOSAL_CHOSEN");
  }
  ASSERT_EQ(health_.unattributed().size(), HealthTracker::kUnattributedKept);
  EXPECT_EQ(health_.unattributed().front().peer_address, "203.0.113.19") << "most recent first";
}

TEST_F(HealthTest, UnnamedFailureWithNoAddressEverBecomesUnattributedWhenItsSaGoes) {
  log("(unnamed)", 6, "received proposals unacceptable");
  health_.on_event("ike-updown",
                   updown_event({.name = "(unnamed)", .uniqueid = 6, .state = "CONNECTING", .remote = "198.51.100.4"},
                                false));
  ASSERT_EQ(health_.unattributed().size(), 1u);
  EXPECT_EQ(health_.unattributed().front().peer_address, "198.51.100.4");
}

// After an IKE rekey the initiator deletes the old IKE SA: routine.
TEST_F(HealthTest, DeleteOfTheIkeSaReplacedByARekeyIsNoFailure) {
  const IkeSpec old_sa{.name = "hub", .uniqueid = 1, .state = "REKEYED"};
  const IkeSpec new_sa{.name = "hub", .uniqueid = 2};
  health_.on_event("ike-rekey", testing::ike_rekey_event(old_sa, new_sa));
  log("hub", 1, "received DELETE for IKE_SA hub[1]");
  EXPECT_EQ(last("hub"), nullptr);
  EXPECT_EQ(health_.find("hub")->ike_rekeys, 1u);
  EXPECT_TRUE(health_.find("hub")->failures.empty());
  // The new one being deleted is a real close.
  log("hub", 2, "received DELETE for IKE_SA hub[2]");
  ASSERT_NE(last("hub"), nullptr);
  EXPECT_EQ(last("hub")->failure, TunnelFailure::deleted_by_peer);
}

TEST_F(HealthTest, GenericFailureRightAfterASpecificOneAddsNothing) {
  log("hub", 3, "received NO_PROPOSAL_CHOSEN notify error");
  clock_.advance(std::chrono::seconds(1));
  log("hub", 3, "failed to establish CHILD_SA, keeping IKE_SA");
  EXPECT_EQ(last("hub")->failure, TunnelFailure::peer_refused_proposal);
  clock_.advance(HealthTracker::kGenericWindow);
  log("hub", 3, "failed to establish CHILD_SA, keeping IKE_SA");
  EXPECT_EQ(last("hub")->failure, TunnelFailure::child_failed) << "later, it stands on its own";
}

// An old SA going down after a change or a rekey is no outage: the line
// names the SAs, so that it reads against the reconciler's "deleting the old
// CHILD SA #6", and it is a line about the connection (journald's
// CONNECTION field).
TEST_F(HealthTest, UpDownLinesNameTheirSas) {
  const IkeSpec sa{.name = "hub", .uniqueid = 3, .children = {{.name = "hub", .uniqueid = 6}}};
  ::testing::internal::CaptureStderr();
  health_.on_event("child-updown", updown_event(sa, false));
  health_.on_event("ike-updown", updown_event(sa, false));
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logged.find("hub: CHILD down (IKE SA #3, CHILD SA #6)\n"), std::string::npos) << logged;
  EXPECT_NE(logged.find("hub: IKE down (IKE SA #3)\n"), std::string::npos) << logged;
  EXPECT_EQ(health_.find("hub")->last_change, "IKE down");
}

TEST_F(HealthTest, ChildUpClearsTheLastErrorIkeUpDoesNot) {
  log("hub", 3, "received AUTHENTICATION_FAILED notify error");
  const IkeSpec sa{.name = "hub", .uniqueid = 3, .children = {{.name = "hub"}}};
  health_.on_event("ike-updown", updown_event(sa, true));
  EXPECT_NE(last("hub"), nullptr);
  EXPECT_EQ(health_.find("hub")->last_change, "IKE up");
  clock_.advance(std::chrono::seconds(2));
  health_.on_event("child-updown", updown_event(sa, true));
  EXPECT_EQ(last("hub"), nullptr);
  EXPECT_EQ(health_.find("hub")->last_change, "CHILD up");
  EXPECT_EQ(health_.find("hub")->last_change_at, clock_.wall_now());
  // The count stays: it is a history, not a state.
  EXPECT_EQ(health_.find("hub")->failures.at(TunnelFailure::peer_refused_authentication), 1u);
  // So does the last failure (the metrics say when the tunnel last failed).
  ASSERT_TRUE(health_.find("hub")->last_failure.has_value());
  EXPECT_EQ(health_.find("hub")->last_failure->failure, TunnelFailure::peer_refused_authentication);
}

TEST_F(HealthTest, OwnRecordsAndClearing) {
  health_.record("hub", TunnelFailure::key_refused, "load-shared failed: loading shared key failed");
  ASSERT_NE(last("hub"), nullptr);
  health_.clear_error("hub", TunnelFailure::configuration_refused);
  EXPECT_NE(last("hub"), nullptr) << "only the named failure is cleared";
  health_.clear_error("hub", TunnelFailure::key_refused);
  EXPECT_EQ(last("hub"), nullptr);
  ASSERT_TRUE(health_.find("hub")->last_failure.has_value()) << "cleared as an error, kept as the last failure";
  EXPECT_EQ(health_.find("hub")->last_failure->failure, TunnelFailure::key_refused);
}

TEST_F(HealthTest, IkeRekeysAreCounted) {
  health_.on_event("ike-rekey", testing::ike_rekey_event({.name = "hub", .uniqueid = 1, .state = "REKEYED"},
                                                          {.name = "hub", .uniqueid = 2}));
  health_.on_event("ike-rekey", testing::ike_rekey_event({.name = "hub", .uniqueid = 2, .state = "REKEYED"},
                                                          {.name = "hub", .uniqueid = 3}));
  EXPECT_EQ(health_.find("hub")->ike_rekeys, 2u);
  EXPECT_EQ(health_.find("hub")->child_rekeys, 0u);
}

TEST_F(HealthTest, CharonRestartForgetsUniqueIds) {
  health_.on_event("ike-rekey", testing::ike_rekey_event({.name = "hub", .uniqueid = 1, .state = "REKEYED"},
                                                          {.name = "hub", .uniqueid = 2}));
  health_.charon_restarted();
  // A new charon's IKE SA 1 is not the old one.
  log("hub", 1, "received DELETE for IKE_SA hub[1]");
  ASSERT_NE(last("hub"), nullptr);
  EXPECT_EQ(last("hub")->failure, TunnelFailure::deleted_by_peer);
}

TEST_F(HealthTest, UnconfiguredConnectionsAreDropped) {
  log("hub", 3, "received AUTHENTICATION_FAILED notify error");
  health_.set_connections({{"spoke", "172.16.1.2", {"spoke-1"}, "", ""}});
  EXPECT_EQ(health_.find("hub"), nullptr);
  log("hub", 3, "received AUTHENTICATION_FAILED notify error");
  EXPECT_EQ(health_.find("hub"), nullptr) << "not ours any more";
}

TEST_F(HealthTest, ChildRekeysAreCounted) {
  vici::Message event = testing::list_sa_event({.name = "hub", .uniqueid = 3});
  vici::Section& ike = event.section("hub");
  const vici::Section sa = testing::ike_section({.name = "hub", .uniqueid = 3, .children = {{.name = "hub"}}});
  const vici::Section child = *sa.get_section("child-sas").value()->get_section("hub-1").value();
  vici::Section& rekey = ike.section("child-sas").section("hub");
  rekey.set_section("old", child);
  rekey.set_section("new", child);
  health_.on_event("child-rekey", event);
  EXPECT_EQ(health_.find("hub")->child_rekeys, 1u);
}

}  // namespace
}  // namespace ergw::gateway
