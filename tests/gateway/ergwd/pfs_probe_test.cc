// PfsProbe: when it asks charon for the probe's rekey, and what it concludes
// from charon's answers, on a fake clock. The events are shaped like charon
// 5.9.8's (sa_messages.h); the log lines are charon 5.9.8's own, as its vici
// logger delivered them in the lab (tests/gateway/tunnel/tunnel_test.cc,
// "PfsProbe*" tests: the appliance's charon.log has the same lines).
#include "gateway/ergwd/pfs_probe.h"

#include <gtest/gtest.h>

#include "tests/common/fake_clock.h"
#include "tests/gateway/ergwd/sa_messages.h"

namespace ergw::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ChildSpec;
using testing::child_rekey_event;
using testing::IkeSpec;
using testing::log_event;
using testing::updown_event;

// charon 5.9.8, child_create.c / child_rekey.c, as delivered.
constexpr const char* kRefused = "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built";
constexpr const char* kRetrying = "CHILD_SA rekeying failed, trying again in 12 seconds";
constexpr const char* kWeRefused = "no acceptable proposal found";
constexpr const char* kOtherGroup = "peer didn't accept DH group MODP_2048, it requested ECP_384";
constexpr const char* kTsRefused = "received TS_UNACCEPTABLE notify, no CHILD_SA built";

struct Asked {
  std::string connection;
  uint64_t child_id = 0;
  std::function<void(std::string)> done;
};

class PfsProbeTest : public ::testing::Test {
 protected:
  PfsProbeTest()
      : probe_(
            clock_,
            [this](const std::string& connection, uint64_t child_id, std::function<void(std::string)> done) {
              asked_.push_back({connection, child_id, std::move(done)});
            },
            [this](bool problem, const std::string& line) { (problem ? problems_ : lines_).push_back(line); }) {
    configure("PFS2048", true);
  }

  void configure(const std::string& group, bool enabled) {
    probe_.set_connections({{"hub", {"hub"}, group, enabled}, {"spoke", {"spoke-a", "spoke-b"}, "None", true}});
  }

  static IkeSpec hub(uint64_t ike_id, uint64_t child_id) {
    return IkeSpec{.name = "hub", .uniqueid = ike_id, .children = {ChildSpec{.name = "hub", .uniqueid = child_id}}};
  }
  void child_up(const IkeSpec& ike) { probe_.on_event("child-updown", updown_event(ike, true)); }
  void ike_down(const IkeSpec& ike) { probe_.on_event("ike-updown", updown_event(ike, false)); }
  void log(const std::string& ike, uint64_t id, const std::string& line) {
    probe_.on_event("log", log_event(ike, id, line));
  }
  void rekeyed(const IkeSpec& ike, uint64_t old_child, uint64_t new_child) {
    probe_.on_event("child-rekey", child_rekey_event(ike, ChildSpec{.name = ike.children.front().name,
                                                                      .uniqueid = old_child},
                                                     ChildSpec{.name = ike.children.front().name,
                                                               .uniqueid = new_child}));
  }
  PfsProbeState state(const std::string& connection = "hub") const { return probe_.find(connection)->state; }
  // Brings hub's IKE SA 1 (CHILD SA 1) up and lets the probe go out.
  void up_and_probed() {
    child_up(hub(1, 1));
    clock_.advance(PfsProbe::kSettle);
    ASSERT_EQ(asked_.size(), 1u);
  }

  boost::asio::io_context io_;
  ergw::testing::FakeClock clock_{io_};
  std::vector<Asked> asked_;
  std::vector<std::string> lines_;
  std::vector<std::string> problems_;
  PfsProbe probe_;
};

TEST_F(PfsProbeTest, RekeysTheFirstChildSaOfANewIkeSaAfterItSettles) {
  EXPECT_EQ(state(), PfsProbeState::waiting);
  child_up(hub(4, 7));
  EXPECT_EQ(state(), PfsProbeState::probing);
  clock_.advance(PfsProbe::kSettle - milliseconds(1));
  EXPECT_TRUE(asked_.empty()) << "both sides install the CHILD SA before the rekey";
  clock_.advance(milliseconds(1));
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0].connection, "hub");
  EXPECT_EQ(asked_[0].child_id, 7u);
  EXPECT_EQ(probe_.find("hub")->probes, 1u);
}

TEST_F(PfsProbeTest, AzureAcceptingTheRekeyIsVerifiedWithTimeAndDuration) {
  up_and_probed();
  clock_.advance(milliseconds(40));
  rekeyed(hub(1, 1), 1, 2);
  const auto* s = probe_.find("hub");
  EXPECT_EQ(s->state, PfsProbeState::verified);
  ASSERT_TRUE(s->verified_at);
  EXPECT_EQ(*s->verified_at, clock_.wall_now());
  ASSERT_TRUE(s->took);
  EXPECT_EQ(s->took->count(), 40);
  EXPECT_TRUE(problems_.empty());
  ASSERT_FALSE(lines_.empty());
  EXPECT_NE(lines_.back().find("hub: PFS verified (pfsGroup PFS2048)"), std::string::npos) << lines_.back();
  // The answer's timeout does not turn it into something else later.
  clock_.advance(PfsProbe::kAnswerTimeout + seconds(1));
  EXPECT_EQ(state(), PfsProbeState::verified);
}

TEST_F(PfsProbeTest, OnlyOneProbePerIkeSaAndAgainForANewOne) {
  up_and_probed();
  rekeyed(hub(1, 1), 1, 2);
  // Another CHILD SA on the same IKE SA (a policy-based pair): no probe.
  child_up(IkeSpec{.name = "hub", .uniqueid = 1, .children = {ChildSpec{.name = "hub", .uniqueid = 3}}});
  clock_.advance(PfsProbe::kSettle);
  EXPECT_EQ(asked_.size(), 1u);
  // The tunnel is re-established: a new IKE SA is probed again.
  ike_down(hub(1, 2));
  child_up(hub(5, 9));
  clock_.advance(PfsProbe::kSettle);
  ASSERT_EQ(asked_.size(), 2u);
  EXPECT_EQ(asked_[1].child_id, 9u);
}

TEST_F(PfsProbeTest, AzureRefusingErgwsPfsGroupIsAMismatchWithTheFix) {
  up_and_probed();
  log("hub", 1, kRefused);
  log("hub", 1, kRetrying);
  const auto* s = probe_.find("hub");
  EXPECT_EQ(s->state, PfsProbeState::mismatch);
  ASSERT_TRUE(s->mismatch_at);
  EXPECT_EQ(s->detail, kRefused);
  for (const char* part : {"hub: PFS mismatch", "ergw has PFS (pfsGroup PFS2048)", "Azure refused",
                           "most likely has no PFS (pfsGroup None)", "ipsecPolicies[].pfsGroup",
                           "--pfs-group PFS2048", "ergw's configuration"}) {
    EXPECT_NE(s->finding.find(part), std::string::npos) << part << " in: " << s->finding;
  }
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0], s->finding);
  // charon retries every 5-15 s and is refused each time: one log line only,
  // and the mismatch stays.
  for (int i = 0; i < 3; ++i) {
    clock_.advance(seconds(12));
    log("hub", 1, kRefused);
    log("hub", 1, kRetrying);
  }
  EXPECT_EQ(problems_.size(), 1u);
  clock_.advance(PfsProbe::kAnswerTimeout);
  EXPECT_EQ(state(), PfsProbeState::mismatch);
}

TEST_F(PfsProbeTest, ErgwWithoutPfsRefusedSaysAzureRequiresPfs) {
  configure("None", true);
  up_and_probed();
  log("hub", 1, kRefused);
  const auto& finding = probe_.find("hub")->finding;
  EXPECT_NE(finding.find("ergw has no PFS (pfsGroup None)"), std::string::npos) << finding;
  EXPECT_NE(finding.find("Azure most likely requires PFS"), std::string::npos) << finding;
  EXPECT_NE(finding.find("--pfs-group None"), std::string::npos) << finding;
}

TEST_F(PfsProbeTest, AzureAskingForAnotherGroupIsNamedInAzuresSpelling) {
  up_and_probed();
  log("hub", 1, kOtherGroup);
  EXPECT_EQ(state(), PfsProbeState::probing) << "charon may still retry with the group asked for";
  log("hub", 1, kRefused);
  const auto& finding = probe_.find("hub")->finding;
  EXPECT_NE(finding.find("Azure asked for group ECP_384 (pfsGroup ECP384)"), std::string::npos) << finding;
}

TEST_F(PfsProbeTest, ALaterSuccessfulRekeyEndsTheMismatch) {
  up_and_probed();
  log("hub", 1, kRefused);
  ASSERT_EQ(state(), PfsProbeState::mismatch);
  rekeyed(hub(1, 1), 1, 2);
  EXPECT_EQ(state(), PfsProbeState::verified);
  EXPECT_TRUE(probe_.find("hub")->finding.empty());
  EXPECT_NE(lines_.back().find("the earlier PFS mismatch is over"), std::string::npos) << lines_.back();
}

TEST_F(PfsProbeTest, AConfigurationChangeStartsOverAndAnUnchangedOneKeepsTheFinding) {
  up_and_probed();
  log("hub", 1, kRefused);
  configure("PFS2048", true);  // reloaded, unchanged
  EXPECT_EQ(state(), PfsProbeState::mismatch);
  configure("None", true);  // the operator fixed ergw's side
  EXPECT_EQ(state(), PfsProbeState::waiting);
  EXPECT_EQ(probe_.find("hub")->pfs_group, "None");
}

// A new PFS group brought in by a new CHILD SA in the running IKE SA (the
// hitless CHILD change): that CREATE_CHILD_SA carried the new group, and
// Azure took it. No second probe of the IKE SA is needed.
TEST_F(PfsProbeTest, ANewChildSaInTheRunningIkeSaAfterAPfsChangeVerifiesIt) {
  up_and_probed();
  rekeyed(hub(1, 1), 1, 2);
  configure("ECP384", true);
  EXPECT_EQ(state(), PfsProbeState::waiting);
  child_up(IkeSpec{.name = "hub", .uniqueid = 1, .children = {ChildSpec{.name = "hub", .uniqueid = 3}}});
  EXPECT_EQ(state(), PfsProbeState::verified);
  EXPECT_NE(lines_.back().find("PFS verified (pfsGroup ECP384): a new CHILD SA in the running IKE SA"),
            std::string::npos)
      << lines_.back();
  clock_.advance(PfsProbe::kSettle);
  EXPECT_EQ(asked_.size(), 1u) << "no second probe of IKE SA #1";
  // While a probe is on its way, the probe decides.
  configure("PFS2048", true);
  child_up(hub(5, 9));
  EXPECT_EQ(state(), PfsProbeState::probing);
  child_up(IkeSpec{.name = "hub", .uniqueid = 5, .children = {ChildSpec{.name = "hub", .uniqueid = 10}}});
  EXPECT_EQ(state(), PfsProbeState::probing);
}

TEST_F(PfsProbeTest, TurnedOffItNeverRekeys) {
  configure("PFS2048", false);
  EXPECT_EQ(state(), PfsProbeState::off);
  child_up(hub(1, 1));
  clock_.advance(PfsProbe::kSettle + seconds(1));
  EXPECT_TRUE(asked_.empty());
  EXPECT_EQ(state(), PfsProbeState::off);
  log("hub", 1, kWeRefused);
  EXPECT_EQ(state(), PfsProbeState::off);
}

TEST_F(PfsProbeTest, ErgwRefusingAzuresRekeyOnAnEstablishedIkeSaIsAMismatch) {
  // Azure dialled; its first CHILD SA came up; no probe answer yet matters.
  configure("ECP384", true);
  child_up(hub(2, 3));
  log("hub", 2, kWeRefused);
  const auto* s = probe_.find("hub");
  EXPECT_EQ(s->state, PfsProbeState::mismatch);
  EXPECT_NE(s->finding.find("Azure rekeyed the CHILD SA without ergw's PFS group ECP384 and ergw refused it"),
            std::string::npos)
      << s->finding;
  EXPECT_NE(s->finding.find("no custom policy: Azure then rekeys without PFS"), std::string::npos);
}

TEST_F(PfsProbeTest, ARefusedIkeProposalIsNoPfsMatter) {
  // IKE_SA_INIT refused: the IKE SA never had a CHILD SA.
  log("hub", 8, kWeRefused);
  EXPECT_EQ(state(), PfsProbeState::waiting);
  EXPECT_TRUE(problems_.empty());
}

TEST_F(PfsProbeTest, AfterAnIkeRekeyTheNewIkeSaCountsAsEstablished) {
  child_up(hub(2, 3));
  probe_.on_event("ike-rekey", testing::ike_rekey_event(hub(2, 3), hub(6, 3)));
  log("hub", 6, kWeRefused);
  EXPECT_EQ(state(), PfsProbeState::mismatch);
}

TEST_F(PfsProbeTest, OtherFailuresAndNoAnswerAreInconclusiveNotAMismatch) {
  up_and_probed();
  log("hub", 1, kTsRefused);
  EXPECT_EQ(state(), PfsProbeState::inconclusive);
  EXPECT_NE(probe_.find("hub")->finding.find("another reason than PFS"), std::string::npos);
  EXPECT_EQ(probe_.find("hub")->detail, kTsRefused);
  EXPECT_TRUE(problems_.empty());

  ike_down(hub(1, 1));
  child_up(hub(2, 4));
  clock_.advance(PfsProbe::kSettle);
  clock_.advance(PfsProbe::kAnswerTimeout);
  EXPECT_EQ(state(), PfsProbeState::inconclusive);
  EXPECT_NE(probe_.find("hub")->finding.find("no answer"), std::string::npos);

  child_up(hub(3, 5));
  clock_.advance(PfsProbe::kSettle);
  ike_down(hub(3, 5));
  EXPECT_NE(probe_.find("hub")->finding.find("went down"), std::string::npos);
}

TEST_F(PfsProbeTest, CharonRefusingTheRequestIsInconclusive) {
  up_and_probed();
  asked_[0].done("rekey failed: no matching SA");
  EXPECT_EQ(state(), PfsProbeState::inconclusive);
  EXPECT_EQ(probe_.find("hub")->detail, "rekey failed: no matching SA");
}

TEST_F(PfsProbeTest, ProbesInFlightAreVoidWhenCharonRestarts) {
  up_and_probed();
  probe_.charon_restarted();
  EXPECT_EQ(state(), PfsProbeState::waiting);
  asked_[0].done("lost charon");  // the old charon's answer
  EXPECT_EQ(state(), PfsProbeState::waiting);
  // The new charon counts from 1 again: the same ids are a new IKE SA.
  child_up(hub(1, 1));
  clock_.advance(PfsProbe::kSettle);
  EXPECT_EQ(asked_.size(), 2u);
}

TEST_F(PfsProbeTest, ARestartedCharonsSasWaitForTheirProbeButAMismatchStays) {
  up_and_probed();
  rekeyed(hub(1, 1), 1, 2);
  ASSERT_EQ(state(), PfsProbeState::verified);
  probe_.charon_restarted();
  EXPECT_EQ(state(), PfsProbeState::waiting);
  EXPECT_TRUE(probe_.find("hub")->verified_at) << "when it was verified last is kept";
  child_up(hub(1, 1));
  clock_.advance(PfsProbe::kSettle);
  log("hub", 1, kRefused);
  ASSERT_EQ(state(), PfsProbeState::mismatch);
  probe_.charon_restarted();
  EXPECT_EQ(state(), PfsProbeState::mismatch);
}

TEST_F(PfsProbeTest, BothSidesDiallingAtOnceTheSurvivorDecides) {
  child_up(hub(1, 1));
  child_up(hub(2, 2));
  clock_.advance(PfsProbe::kSettle);
  ASSERT_EQ(asked_.size(), 2u);
  ike_down(hub(1, 1));  // the duplicate goes
  EXPECT_EQ(state(), PfsProbeState::probing) << "the other probe is still on its way";
  rekeyed(hub(2, 2), 2, 3);
  EXPECT_EQ(state(), PfsProbeState::verified);
}

// ergwd restarted under running tunnels: no up event will come for them.
TEST_F(PfsProbeTest, AnIkeSaEstablishedBeforeErgwdStartedIsNotProbedAndSaysSo) {
  probe_.note_established({testing::ike_sa(hub(5, 9))});
  EXPECT_EQ(state(), PfsProbeState::not_probed) << "not waiting forever for an event that will not come";
  EXPECT_NE(probe_.find("hub")->finding.find("before ergwd started"), std::string::npos);
  EXPECT_TRUE(asked_.empty()) << "a running tunnel is not rekeyed for the probe";
  EXPECT_EQ(to_string(state()), "not_probed");
  // Listed again at every pass: said once.
  probe_.note_established({testing::ike_sa(hub(5, 9))});
  EXPECT_EQ(lines_.size(), 1u);
  // A rekey of Azure's that ergw refuses on it is still a mismatch...
  log("hub", 5, kWeRefused);
  EXPECT_EQ(state(), PfsProbeState::mismatch);
  // ...and a later rekey that succeeds verifies it.
  rekeyed(hub(5, 9), 9, 10);
  EXPECT_EQ(state(), PfsProbeState::verified);
}

TEST_F(PfsProbeTest, TheNextIkeSaOfANotProbedConnectionIsProbed) {
  probe_.note_established({testing::ike_sa(hub(5, 9))});
  ASSERT_EQ(state(), PfsProbeState::not_probed);
  child_up(hub(6, 11));
  EXPECT_EQ(state(), PfsProbeState::probing);
  EXPECT_TRUE(probe_.find("hub")->finding.empty());
  clock_.advance(PfsProbe::kSettle);
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0].child_id, 11u);
}

TEST_F(PfsProbeTest, AnUpEventTheSaListOvertookStillProbes) {
  // The list (command connection) arrived before the event (event connection).
  probe_.note_established({testing::ike_sa(hub(1, 1))});
  child_up(hub(1, 1));
  clock_.advance(PfsProbe::kSettle);
  ASSERT_EQ(asked_.size(), 1u);
  child_up(hub(1, 1));  // a second event of the same IKE SA: still once
  clock_.advance(PfsProbe::kSettle);
  EXPECT_EQ(asked_.size(), 1u);
}

TEST_F(PfsProbeTest, OnlyEstablishedIkeSasWithAnInstalledChildAndWaitingConnectionsCount) {
  probe_.note_established({testing::ike_sa(IkeSpec{.name = "hub", .uniqueid = 3, .state = "CONNECTING"}),
                           testing::ike_sa(IkeSpec{.name = "hub", .uniqueid = 4, .children = {}})});
  EXPECT_EQ(state(), PfsProbeState::waiting);
  up_and_probed();
  rekeyed(hub(1, 1), 1, 2);
  probe_.note_established({testing::ike_sa(hub(7, 8))});
  EXPECT_EQ(state(), PfsProbeState::verified) << "a result stands";
  configure("PFS2048", false);
  probe_.note_established({testing::ike_sa(hub(9, 9))});
  EXPECT_EQ(state(), PfsProbeState::off);
}

TEST_F(PfsProbeTest, EventsOfOtherConnectionsAndMalformedOnesAreIgnored) {
  child_up(IkeSpec{.name = "elsewhere", .uniqueid = 1, .children = {ChildSpec{.name = "elsewhere"}}});
  probe_.on_event("child-updown", vici::Message{});
  probe_.on_event("child-rekey", vici::Message{});
  probe_.on_event("log", vici::Message{});
  clock_.advance(PfsProbe::kSettle);
  EXPECT_TRUE(asked_.empty());
  EXPECT_EQ(state("spoke"), PfsProbeState::waiting);
}

}  // namespace
}  // namespace ergw::gateway
