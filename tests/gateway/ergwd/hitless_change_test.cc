// Hitless change: which changes are brought in make-before-break and how
// (decide_change), and each step from charon's SA list (next_change_step).
// ergwd's own connection plans load without start actions.
#include "gateway/ergwd/hitless_change.h"

#include <gtest/gtest.h>

#include "gateway/ergwd/connection_plan.h"
#include "tests/gateway/ergwd/sa_messages.h"

namespace ergw::gateway {
namespace {

using namespace std::chrono_literals;
using testing::ChildSpec;
using testing::IkeSpec;

ConnectionPlan hub() {
  ConnectionPlan p;
  p.name = "hub";
  p.conn.set("version", "2")
      .set_list("local_addrs", {"172.16.0.1"})
      .set_list("remote_addrs", {"172.16.0.2"})
      .set_list("proposals", {"aes256gcm16-prfsha384-ecp384"});
  p.conn.section("children").section("hub").set_list("esp_proposals", {"aes256gcm16-ecp384"});
  p.secret.name = "ike-hub";
  p.secret.owners = {"172.16.0.1", "172.16.0.2"};
  p.secret.secret = Secret(std::string("old-psk"));
  p.dial = true;
  p.peer_dials = true;
  p.children = {"hub"};
  p.remote = "172.16.0.2";
  p.local_id = "172.16.0.1";
  p.remote_id = "172.16.0.2";
  return p;
}

TEST(HitlessChange, ANewIkePolicyIsANewIkeSa) {
  auto after = hub();
  after.conn.set_list("proposals", {"aes256-sha256-modp2048"});
  after.conn.section("children").section("hub").set_list("esp_proposals", {"aes256-sha256-modp2048"});
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::new_ike_sa);
  // Any other IKE setting too (DPD, lifetimes), and with a new PSK besides:
  // the new IKE SA authenticates with it.
  after = hub();
  after.conn.set("dpd_delay", "10s");
  after.secret.secret = Secret(std::string("new-psk"));
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::new_ike_sa);
}

TEST(HitlessChange, OnlyANewPskIsAReauthentication) {
  auto after = hub();
  after.secret.secret = Secret(std::string("new-psk"));
  const auto decision = decide_change(hub(), after);
  EXPECT_EQ(decision.method, ChangeMethod::reauthenticate);
  EXPECT_EQ(decision.why.find("psk"), std::string::npos) << "never the key itself";
  EXPECT_EQ(decide_change(hub(), hub()).method, ChangeMethod::none);
}

TEST(HitlessChange, WhatASecondIkeSaCannotBringInIsARestart) {
  auto after = hub();
  after.dial = false;  // InitiatorOnly: Azure ignores ergw's IKE_SA_INIT
  after.conn.set("rekey_time", "1h");
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::restart);
  after = hub();
  after.peer_dials = false;
  after.conn.set("rekey_time", "1h");
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::restart) << "connection mode";
  after = hub();
  after.remote = "172.16.0.6";
  after.conn.set_list("remote_addrs", {"172.16.0.6"});
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::restart) << "Azure's address";
  after = hub();
  after.conn.set_list("local_addrs", {"172.16.0.5"});
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::restart) << "ergw's address";
  after = hub();
  after.remote_id = "azure.example";
  after.conn.section("remote").set("id", "azure.example");
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::restart) << "an identity";
  // Not dialled, with a new PSK: only a new IKE SA authenticates with it.
  after = hub();
  after.dial = false;
  after.secret.secret = Secret(std::string("new-psk"));
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::restart) << "InitiatorOnly and a new PSK";
}

TEST(HitlessChange, OnlyNewChildSettingsAreNewChildSasInTheRunningIkeSa) {
  // The ESP proposal with a PFS group: charon puts the new CHILD SA into the
  // running IKE SA, whose IKE and peer configs stay the same.
  auto after = hub();
  after.conn.section("children").section("hub").set_list("esp_proposals", {"aes256-sha256-modp2048"});
  auto decision = decide_change(hub(), after);
  EXPECT_EQ(decision.method, ChangeMethod::new_child_sas);
  EXPECT_NE(decision.why.find("CHILD settings"), std::string::npos) << decision.why;
  // Whoever dials: a CREATE_CHILD_SA in a running IKE SA is any side's to send.
  auto before = hub();
  before.dial = false;
  after.dial = false;
  EXPECT_EQ(decide_change(before, after).method, ChangeMethod::new_child_sas) << "InitiatorOnly";
  // A new traffic selector (a policy-based prefix pair more) too.
  after = hub();
  after.conn.section("children").section("hub-2").set_list("esp_proposals", {"aes256gcm16-ecp384"});
  after.children = {"hub", "hub-2"};
  EXPECT_EQ(decide_change(hub(), after).method, ChangeMethod::new_child_sas);
  // With a new PSK: the reauthentication first, then new CHILD SAs in the
  // new IKE SA (it re-creates the CHILD SAs from their old configs).
  after = hub();
  after.conn.section("children").section("hub").set_list("esp_proposals", {"aes128gcm16"});
  after.secret.secret = Secret(std::string("new-psk"));
  decision = decide_change(hub(), after);
  EXPECT_EQ(decision.method, ChangeMethod::reauthenticate);
  EXPECT_TRUE(decision.then_new_child_sas);
  EXPECT_FALSE(decide_change(hub(), hub()).then_new_child_sas);
}

vici::IkeSaInfo sa(uint64_t id, std::string state = "ESTABLISHED", std::vector<ChildSpec> children = {}) {
  return testing::ike_sa(IkeSpec{.name = "hub", .uniqueid = id, .state = std::move(state), .children = children});
}

TEST(HitlessChange, TheOldIkeSaGoesOnlyOnceTheNewOneCarriesEveryChild) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  const std::vector<std::string> children{"hub-1", "hub-2"};  // policy-based: two prefix pairs
  std::vector<vici::IkeSaInfo> sas{sa(1, "ESTABLISHED", {{.name = "hub-1", .uniqueid = 1}, {.name = "hub-2",
                                                                                             .uniqueid = 2}}),
                                   testing::ike_sa(IkeSpec{.name = "other", .uniqueid = 9})};
  auto change = start_change(ChangeMethod::new_ike_sa, "hub", sas);
  EXPECT_EQ(change.old_ike_sas, (std::set<uint64_t>{1}));
  auto next = next_change_step(change, "hub", children, sas, t0);
  ASSERT_EQ(next.step, ChangeStep::make);
  EXPECT_EQ(next.initiate, (std::vector<std::string>{"hub-1"})) << "the first CHILD brings the IKE SA";
  note_made(change, "hub", sas, t0);

  sas.push_back(sa(3, "CONNECTING"));
  EXPECT_EQ(next_change_step(change, "hub", children, sas, t0 + 10s).step, ChangeStep::wait);
  // Up with its first CHILD: the second follows into it; the old one stays.
  sas.back() = sa(3, "ESTABLISHED", {{.name = "hub-1", .uniqueid = 4}});
  EXPECT_EQ(next_change_step(change, "hub", children, sas, t0 + 1s).step, ChangeStep::wait);
  next = next_change_step(change, "hub", children, sas, t0 + kRedial);
  ASSERT_EQ(next.step, ChangeStep::make);
  EXPECT_EQ(next.initiate, (std::vector<std::string>{"hub-2"}));
  note_made(change, "hub", sas, t0 + kRedial);
  vici::ChildSaInfo second;
  second.name = "hub-2";
  second.uniqueid = 5;
  second.state = vici::ChildSaState::installing;
  sas.back().child_sas.push_back(second);
  EXPECT_EQ(next_change_step(change, "hub", children, sas, t0 + 2 * kRedial).step, ChangeStep::wait)
      << "being installed: not asked for again";
  sas.back().child_sas.back().state = vici::ChildSaState::installed;
  next = next_change_step(change, "hub", children, sas, t0 + 2 * kRedial);
  ASSERT_EQ(next.step, ChangeStep::finish);
  EXPECT_EQ(next.new_ike_sa, 3u);
  EXPECT_EQ(next.old, (std::vector<uint64_t>{1}));
}

TEST(HitlessChange, WhileThePeerRefusesTheNewSettingsTheOldIkeSaStaysAndItIsAskedAgain) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  std::vector<vici::IkeSaInfo> sas{sa(1, "ESTABLISHED", {{.name = "hub", .uniqueid = 1}})};
  auto change = start_change(ChangeMethod::new_ike_sa, "hub", sas);
  note_made(change, "hub", sas, t0);
  // NO_PROPOSAL_CHOSEN: the new IKE SA is gone again.
  EXPECT_EQ(next_change_step(change, "hub", {"hub"}, sas, t0 + kRedial - 1ms).step, ChangeStep::wait);
  EXPECT_EQ(next_change_step(change, "hub", {"hub"}, sas, t0 + kRedial).step, ChangeStep::make);
  // A rekey of the old CHILD SA meanwhile is not mistaken for charon reusing
  // the old IKE SA, once noted at the next attempt.
  note_made(change, "hub", sas, t0 + kRedial);
  sas[0].child_sas[0].uniqueid = 2;
  EXPECT_EQ(next_change_step(change, "hub", {"hub"}, sas, t0 + 2 * kRedial).step, ChangeStep::fall_back)
      << "a CHILD SA appeared in the old IKE SA right after the initiate: charon reused it";
}

TEST(HitlessChange, OldIkeSasGoneByThemselvesEndTheChange) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  auto change = start_change(ChangeMethod::new_ike_sa, "hub", {sa(1, "ESTABLISHED", {{.name = "hub"}})});
  note_made(change, "hub", {}, t0);
  const auto next = next_change_step(change, "hub", {"hub"}, {}, t0 + 1s);
  EXPECT_EQ(next.step, ChangeStep::finish);
  EXPECT_TRUE(next.old.empty());
  EXPECT_EQ(next.new_ike_sa, 0u);
}

TEST(HitlessChange, AReauthenticationLeavesTheDeleteOfTheReauthenticatedIkeSaToCharon) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  // Both sides had dialled: two old IKE SAs.
  std::vector<vici::IkeSaInfo> sas{sa(1, "ESTABLISHED", {{.name = "hub", .uniqueid = 1}}),
                                   sa(2, "ESTABLISHED", {{.name = "hub", .uniqueid = 2}})};
  auto change = start_change(ChangeMethod::reauthenticate, "hub", sas);
  auto next = next_change_step(change, "hub", {"hub"}, sas, t0);
  ASSERT_EQ(next.step, ChangeStep::make);
  EXPECT_EQ(next.reauthenticate, 1u);
  EXPECT_TRUE(next.initiate.empty());
  change.reauthenticated = next.reauthenticate;
  note_made(change, "hub", sas, t0);
  sas.push_back(sa(3, "ESTABLISHED", {{.name = "hub", .uniqueid = 3}}));
  next = next_change_step(change, "hub", {"hub"}, sas, t0 + 1s);
  ASSERT_EQ(next.step, ChangeStep::finish);
  EXPECT_EQ(next.old, (std::vector<uint64_t>{2})) << "#1 is charon's to delete";
}

TEST(HitlessChange, TheOldChildSasGoOnlyOnceEveryChildHasANewOne) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  const std::vector<std::string> children{"hub-1", "hub-2"};
  std::vector<vici::IkeSaInfo> sas{sa(1, "ESTABLISHED", {{.name = "hub-1", .uniqueid = 1}, {.name = "hub-2",
                                                                                             .uniqueid = 2}}),
                                   testing::ike_sa(IkeSpec{.name = "other", .uniqueid = 9,
                                                           .children = {{.name = "other", .uniqueid = 3}}})};
  auto change = start_change(ChangeMethod::new_child_sas, "hub", sas);
  auto next = next_change_step(change, "hub", children, sas, t0);
  ASSERT_EQ(next.step, ChangeStep::make);
  EXPECT_EQ(next.initiate, children) << "every CHILD at once: the IKE SA is there";
  note_made(change, "hub", sas, t0);

  // The first new CHILD SA is up, the second on its way: nothing goes yet.
  sas[0] = sa(1, "ESTABLISHED",
              {{.name = "hub-1", .uniqueid = 1}, {.name = "hub-2", .uniqueid = 2}, {.name = "hub-1", .uniqueid = 4},
               {.name = "hub-2", .state = "INSTALLING", .uniqueid = 5}});
  next = next_change_step(change, "hub", children, sas, t0 + 1s);
  EXPECT_EQ(next.step, ChangeStep::wait);
  EXPECT_EQ(next_change_step(change, "hub", children, sas, t0 + 2 * kRedial).step, ChangeStep::wait)
      << "being installed: not asked for again";

  // Both new ones installed: the two old ones go, nothing else (the other
  // connection's CHILD SA #3 is not ours).
  sas[0].child_sas[3].state = vici::ChildSaState::installed;
  next = next_change_step(change, "hub", children, sas, t0 + 2s);
  ASSERT_EQ(next.step, ChangeStep::finish);
  EXPECT_EQ(next.old_children, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(next.new_children, (std::vector<uint64_t>{4, 5}));
  EXPECT_TRUE(next.old.empty()) << "the IKE SA stays";
}

TEST(HitlessChange, WhileThePeerRefusesTheNewChildSettingsTheOldChildSaCarriesAndItIsAskedAgain) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  std::vector<vici::IkeSaInfo> sas{sa(1, "ESTABLISHED", {{.name = "hub", .uniqueid = 1}})};
  auto change = start_change(ChangeMethod::new_child_sas, "hub", sas);
  note_made(change, "hub", sas, t0);
  // NO_PROPOSAL_CHOSEN (Azure has the old ESP policy still): no new CHILD SA.
  EXPECT_EQ(next_change_step(change, "hub", {"hub"}, sas, t0 + kRedial - 1ms).step, ChangeStep::wait);
  auto next = next_change_step(change, "hub", {"hub"}, sas, t0 + kRedial);
  ASSERT_EQ(next.step, ChangeStep::make);
  EXPECT_EQ(next.initiate, (std::vector<std::string>{"hub"}));
  note_made(change, "hub", sas, t0 + kRedial);
  // The old CHILD SA is rekeyed meanwhile (with its old config): its
  // successor is old too, not the new CHILD SA.
  note_child_rekey(change, 1, 7);
  sas[0].child_sas[0].uniqueid = 7;
  next = next_change_step(change, "hub", {"hub"}, sas, t0 + kRedial + 1s);
  EXPECT_EQ(next.step, ChangeStep::wait) << "a rekeyed old CHILD SA is no new one";
  // A rekey of a CHILD SA the change does not know changes nothing.
  note_child_rekey(change, 40, 41);
  EXPECT_FALSE(change.old_child_sas.count(41));
  // The IKE SA is being rekeyed: nothing to put the CHILD SA into until it is
  // established; then it is asked for again.
  sas[0].state = vici::IkeSaState::connecting;
  EXPECT_EQ(next_change_step(change, "hub", {"hub"}, sas, t0 + 3 * kRedial).step, ChangeStep::wait);
  // The tunnel went altogether: the change ends, the reconciler dials it.
  next = next_change_step(change, "hub", {"hub"}, {}, t0 + 3 * kRedial);
  EXPECT_EQ(next.step, ChangeStep::finish);
  EXPECT_TRUE(next.new_children.empty());
  EXPECT_TRUE(next.old_children.empty());
  // No CHILD configured any more: nothing replaces the old CHILD SAs, so
  // none is deleted.
  sas[0].state = vici::IkeSaState::established;
  next = next_change_step(change, "hub", {}, sas, t0 + 3 * kRedial);
  EXPECT_EQ(next.step, ChangeStep::finish);
  EXPECT_TRUE(next.old_children.empty());
}

TEST(HitlessChange, AnIkeRekeyDuringAChildChangeCarriesTheOldChildSasAlong) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  std::vector<vici::IkeSaInfo> sas{sa(1, "ESTABLISHED", {{.name = "hub", .uniqueid = 1}})};
  auto change = start_change(ChangeMethod::new_child_sas, "hub", sas);
  note_made(change, "hub", sas, t0);
  // IKE SA #1 rekeyed into #2: the CHILD SAs move with their unique ids.
  sas = {sa(2, "ESTABLISHED", {{.name = "hub", .uniqueid = 1}, {.name = "hub", .uniqueid = 3}})};
  const auto next = next_change_step(change, "hub", {"hub"}, sas, t0 + 1s);
  ASSERT_EQ(next.step, ChangeStep::finish);
  EXPECT_EQ(next.old_children, (std::vector<uint64_t>{1}));
  EXPECT_EQ(next.new_children, (std::vector<uint64_t>{3}));
}

TEST(HitlessChange, ErgwdLoadsItsConnectionsWithoutStartActions) {
  policy::CompiledConfiguration compiled;
  policy::IkeConnectionConfig ike;
  ike.name = "hub";
  policy::ChildConfig child;
  child.name = "hub";
  child.start_action = "start";
  child.close_action = "start";
  ike.children.push_back(child);
  compiled.connections.push_back(ike);
  const auto plans = plan_connections(compiled);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_TRUE(plans[0].dial) << "ergwd dials it";
  const auto* children = plans[0].conn.get_section("children").value();
  const auto* loaded = children->get_section("hub").value();
  EXPECT_EQ(loaded->string_or("start_action", ""), "none");
  EXPECT_EQ(loaded->string_or("close_action", ""), "start") << "only the start action goes";
}

}  // namespace
}  // namespace ergw::gateway
