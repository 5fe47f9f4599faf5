// Typed list-sa / updown / list-conn views, on messages shaped like charon 5.9.8's.
#include "vici/sa_info.h"

#include <gtest/gtest.h>

#include "tests/vici/sample_messages.h"

namespace ergw::vici {
namespace {

TEST(ViciSaInfo, ParsesListSaEvent) {
  Result<std::vector<IkeSaInfo>> sas = parse_list_sa_event(testing::sample_list_sa_event());
  ASSERT_TRUE(sas) << sas.error();
  ASSERT_EQ(sas->size(), 1u);
  const IkeSaInfo& ike = (*sas)[0];
  EXPECT_EQ(ike.name, "azure");
  EXPECT_EQ(ike.uniqueid, 3u);
  EXPECT_EQ(ike.version, 2u);
  EXPECT_EQ(ike.state, IkeSaState::established);
  EXPECT_EQ(ike.local_host, "192.0.2.1");
  EXPECT_EQ(ike.local_port, 4500);
  EXPECT_EQ(ike.remote_host, "198.51.100.7");
  EXPECT_TRUE(ike.initiator);
  EXPECT_EQ(ike.encr_alg, "AES_CBC");
  EXPECT_EQ(ike.encr_keysize, 256u);
  EXPECT_EQ(ike.integ_alg, "HMAC_SHA2_256_128");
  EXPECT_EQ(ike.prf_alg, "PRF_HMAC_SHA2_256");
  EXPECT_EQ(ike.dh_group, "MODP_1024");
  EXPECT_EQ(ike.established, 120u);
  EXPECT_EQ(ike.rekey_time, 28000u);
  EXPECT_FALSE(ike.reauth_time.has_value());
  ASSERT_EQ(ike.child_sas.size(), 1u);
  const ChildSaInfo& child = ike.child_sas[0];
  EXPECT_EQ(child.key, "net-5");
  EXPECT_EQ(child.name, "net");
  EXPECT_EQ(child.uniqueid, 5u);
  EXPECT_EQ(child.state, ChildSaState::installed);
  EXPECT_EQ(child.protocol, "ESP");
  EXPECT_TRUE(child.encap);
  EXPECT_EQ(child.spi_in, "c8a1b2c3");
  EXPECT_EQ(child.spi_out, "0badf00d");
  EXPECT_EQ(child.encr_alg, "AES_GCM_16");
  EXPECT_TRUE(child.integ_alg.empty());
  EXPECT_EQ(child.bytes_in, 1000u);
  EXPECT_EQ(child.packets_out, 20u);
  EXPECT_EQ(child.install_time, 100u);
  EXPECT_EQ(child.rekey_time, 3000u);
  EXPECT_EQ(child.local_ts, (std::vector<std::string>{"0.0.0.0/0"}));
  EXPECT_EQ(child.remote_ts, (std::vector<std::string>{"10.1.0.0/16", "10.2.0.0/16"}));
}

TEST(ViciSaInfo, MissingRequiredFieldIsAnError) {
  Message event = testing::sample_list_sa_event();
  Section& ike = event.section("azure");
  ike.erase("uniqueid");
  Result<std::vector<IkeSaInfo>> sas = parse_list_sa_event(event);
  ASSERT_FALSE(sas);
  EXPECT_NE(sas.error().find("uniqueid"), std::string::npos);
}

TEST(ViciSaInfo, MalformedNumberIsAnErrorAbsentOneIsNot) {
  Message event = testing::sample_list_sa_event();
  event.section("azure").section("child-sas").section("net-5").erase("bytes-in");
  EXPECT_TRUE(parse_list_sa_event(event));
  event.section("azure").section("child-sas").section("net-5").set("bytes-out", "lots");
  Result<std::vector<IkeSaInfo>> sas = parse_list_sa_event(event);
  ASSERT_FALSE(sas);
  EXPECT_NE(sas.error().find("bytes-out"), std::string::npos);
  EXPECT_NE(sas.error().find("net-5"), std::string::npos);
}

TEST(ViciSaInfo, PortOutOfRange) {
  Message event = testing::sample_list_sa_event();
  event.section("azure").set("local-port", "70000");
  EXPECT_FALSE(parse_list_sa_event(event));
}

TEST(ViciSaInfo, WrongShapesAreErrors) {
  Message value_at_top;
  value_at_top.set("azure", "x");
  EXPECT_FALSE(parse_list_sa_event(value_at_top));
  Message event = testing::sample_list_sa_event();
  event.section("azure").section("child-sas").set("oops", "x");
  EXPECT_FALSE(parse_list_sa_event(event));
  Message list_children = testing::sample_list_sa_event();
  list_children.section("azure").set_list("child-sas", {"x"});
  EXPECT_FALSE(parse_list_sa_event(list_children));
}

TEST(ViciSaInfo, UpDownEvents) {
  Message up = testing::sample_list_sa_event();
  up.set("up", "yes");
  Result<UpDownEvent> parsed = parse_updown_event(up);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_TRUE(parsed->up);
  EXPECT_EQ(parsed->ike_sa.name, "azure");

  Message down = testing::sample_list_sa_event();  // no "up" key when going down
  parsed = parse_updown_event(down);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->up);

  Message none;
  none.set("up", "yes");
  EXPECT_FALSE(parse_updown_event(none));
}

TEST(ViciSaInfo, ListConnEvent) {
  Message event;
  Section& conn = event.section("azure");
  conn.set_list("local_addrs", {"192.0.2.1"}).set_list("remote_addrs", {"198.51.100.7"});
  conn.set("version", "IKEv2");
  conn.section("local-1").set("class", "pre-shared key");
  conn.section("children").section("net").set("mode", "TUNNEL");
  Result<std::vector<ConnInfo>> conns = parse_list_conn_event(event);
  ASSERT_TRUE(conns) << conns.error();
  ASSERT_EQ(conns->size(), 1u);
  EXPECT_EQ((*conns)[0].name, "azure");
  EXPECT_EQ((*conns)[0].remote_addrs, (std::vector<std::string>{"198.51.100.7"}));
  EXPECT_EQ((*conns)[0].version, "IKEv2");
  EXPECT_EQ((*conns)[0].children, (std::vector<std::string>{"net"}));
  EXPECT_TRUE((*conns)[0].raw.contains("local-1"));
}

TEST(ViciSaState, EveryCharonNameParsesAndPrintsBack) {
  // strongSwan 5.9.8 ike_sa_state_names and child_sa_state_names, in order.
  const std::vector<std::string> ike = {"CREATED",  "CONNECTING", "ESTABLISHED", "PASSIVE",
                                        "REKEYING", "REKEYED",    "DELETING",    "DESTROYING"};
  for (size_t i = 0; i < ike.size(); ++i) {
    auto state = parse_ike_sa_state(ike[i]);
    ASSERT_TRUE(state) << ike[i];
    EXPECT_EQ(static_cast<size_t>(*state), i);
    EXPECT_EQ(to_string(*state), ike[i]);
  }
  const std::vector<std::string> child = {"CREATED",  "ROUTED",   "INSTALLING", "INSTALLED",
                                          "UPDATING", "REKEYING", "REKEYED",    "RETRYING",
                                          "DELETING", "DELETED",  "DESTROYING"};
  for (size_t i = 0; i < child.size(); ++i) {
    auto state = parse_child_sa_state(child[i]);
    ASSERT_TRUE(state) << child[i];
    EXPECT_EQ(static_cast<size_t>(*state), i);
    EXPECT_EQ(to_string(*state), child[i]);
  }
  EXPECT_FALSE(parse_ike_sa_state("established"));  // charon's names are upper case
  EXPECT_FALSE(parse_child_sa_state(""));
}

TEST(ViciSaState, WhatTheStatesMean) {
  EXPECT_TRUE(is_established(IkeSaState::established));
  EXPECT_TRUE(is_established(IkeSaState::rekeying));  // still holds its CHILD SAs
  EXPECT_FALSE(is_established(IkeSaState::rekeyed));
  EXPECT_FALSE(is_established(IkeSaState::connecting));
  EXPECT_TRUE(is_connecting(IkeSaState::created));
  EXPECT_TRUE(is_connecting(IkeSaState::connecting));
  EXPECT_FALSE(is_connecting(IkeSaState::deleting));
  for (auto s : {ChildSaState::installed, ChildSaState::updating, ChildSaState::rekeying, ChildSaState::rekeyed}) {
    EXPECT_TRUE(is_installed(s)) << to_string(s);
    EXPECT_FALSE(is_in_progress(s)) << to_string(s);
  }
  for (auto s : {ChildSaState::created, ChildSaState::installing, ChildSaState::retrying}) {
    EXPECT_TRUE(is_in_progress(s)) << to_string(s);
    EXPECT_FALSE(is_installed(s)) << to_string(s);
  }
  for (auto s : {ChildSaState::routed, ChildSaState::deleting, ChildSaState::deleted, ChildSaState::destroying}) {
    EXPECT_FALSE(is_installed(s)) << to_string(s);
    EXPECT_FALSE(is_in_progress(s)) << to_string(s);
  }
}

TEST(ViciSaInfo, UnknownStateIsAnErrorNamingTheAllowedOnes) {
  Message event = testing::sample_list_sa_event();
  event.section("azure").set("state", "HALF_OPEN");
  Result<std::vector<IkeSaInfo>> sas = parse_list_sa_event(event);
  ASSERT_FALSE(sas);
  EXPECT_EQ(sas.error_code(), ErrorCode::malformed);
  EXPECT_NE(sas.error().find("HALF_OPEN"), std::string::npos) << sas.error();
  EXPECT_NE(sas.error().find("ESTABLISHED"), std::string::npos) << sas.error();
  Message child = testing::sample_list_sa_event();
  child.section("azure").section("child-sas").section("net-5").set("state", "UP");
  sas = parse_list_sa_event(child);
  ASSERT_FALSE(sas);
  EXPECT_NE(sas.error().find("INSTALLED"), std::string::npos) << sas.error();
}

// ike-rekey as charon 5.9.8 sends it (vici_query.c ike_rekey): the old and
// the new IKE SA under the connection's name.
TEST(ViciSaInfo, IkeRekeyEvent) {
  const Message sample = testing::sample_list_sa_event();
  const Section& sa = *sample.get_section("azure").value();
  Message event;
  Section& body = event.section("azure");
  body.set_section("old", sa);
  Section fresh = sa;
  fresh.set("uniqueid", "9").erase("child-sas");
  body.set_section("new", fresh);
  Result<IkeRekeyEvent> parsed = parse_ike_rekey_event(event);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->name, "azure");
  EXPECT_EQ(parsed->old_sa.uniqueid, 3u);
  EXPECT_EQ(parsed->new_sa.uniqueid, 9u);
  EXPECT_TRUE(parsed->new_sa.child_sas.empty());

  body.erase("new");
  EXPECT_FALSE(parse_ike_rekey_event(event));
}

// child-rekey: the IKE SA's fields, then child-sas = { <name> = { old, new } }.
TEST(ViciSaInfo, ChildRekeyEvent) {
  Message sample = testing::sample_list_sa_event();
  Section& ike = sample.section("azure");
  const Section child = *ike.get_section("child-sas").value()->get_section("net-5").value();
  ike.erase("child-sas");
  Section& rekey = ike.section("child-sas").section("net");
  rekey.set_section("old", child);
  Section fresh = child;
  fresh.set("uniqueid", "6").set("spi-in", "aa00bb11");
  rekey.set_section("new", fresh);
  Result<ChildRekeyEvent> parsed = parse_child_rekey_event(sample);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->ike_name, "azure");
  EXPECT_EQ(parsed->ike_uniqueid, 3u);
  EXPECT_EQ(parsed->old_sa.uniqueid, 5u);
  EXPECT_EQ(parsed->new_sa.spi_in, "aa00bb11");
}

}  // namespace
}  // namespace ergw::vici
