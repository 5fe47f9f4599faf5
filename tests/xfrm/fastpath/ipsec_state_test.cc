#include "xfrm/fastpath/ipsec_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <map>
#include <vector>
#include <string>

#include "tests/xfrm/fastpath/temp_sequence_file.h"

namespace ergw::xfrm::fastpath {
namespace {

using control::AddSaRequest;
using control::PolicyDirection;
using control::PolicyRequest;
using control::UpdateSaRequest;

AddSaRequest sa(uint32_t spi, bool inbound, uint32_t reqid, bool udp = false) {
  AddSaRequest r;
  r.key.spi = spi;
  r.key.src = *IpAddress::parse(inbound ? "172.16.0.2" : "172.16.0.1");
  r.key.dst = *IpAddress::parse(inbound ? "172.16.0.1" : "172.16.0.2");
  r.reqid = reqid;
  r.config.spi = spi;
  r.config.direction = inbound ? esp::Direction::inbound : esp::Direction::outbound;
  r.config.local = inbound ? r.key.dst : r.key.src;
  r.config.remote = inbound ? r.key.src : r.key.dst;
  if (udp) r.config.encapsulation = esp::Encapsulation::udp;
  r.config.algorithm = {esp::Encryption::aes_gcm_16, 128, esp::Integrity::none};
  r.config.encryption_key.assign(16, 0x42);
  if (!inbound) r.config.replay_window = 0;
  return r;
}

PolicyRequest policy(PolicyDirection dir, const char* src, const char* dst, uint32_t reqid, uint32_t if_id = 0) {
  PolicyRequest p;
  p.direction = dir;
  p.src_ts = {0, *IpPrefix::parse(src), 0, 65535};
  p.dst_ts = {0, *IpPrefix::parse(dst), 0, 65535};
  p.reqid = reqid;
  p.if_id = if_id;
  return p;
}

std::array<uint8_t, 20> ipv4(const char* src, const char* dst) {
  std::array<uint8_t, 20> h{};
  h[0] = 0x45;
  std::memcpy(h.data() + 12, IpAddress::parse(src)->bytes().data(), 4);
  std::memcpy(h.data() + 16, IpAddress::parse(dst)->bytes().data(), 4);
  return h;
}

struct Chosen {
  uint32_t spi = 0;
  ConnectionDrop drop = ConnectionDrop::no_outbound_sa;
  bool connection = false;
};

Chosen choose(IpsecState& state, const char* src, const char* dst) {
  auto packet = ipv4(src, dst);
  IpsecState::ReadGuard guard(state);
  ConnectionDrop drop;
  ConnectionStats* connection = nullptr;
  const OutboundTarget* t = state.choose_outbound(packet.data(), packet.size(), drop, connection);
  Chosen c;
  c.drop = drop;
  c.connection = connection != nullptr;
  if (t != nullptr) c.spi = esp::sa_config(*state.table().find(t->sa)).spi;
  return c;
}

TEST(IpsecState, OutboundFollowsPolicyAndSwitchesToTheNewestSa) {
  IpsecState state({});
  auto out1 = sa(0x1001, false, 5);
  ASSERT_TRUE(state.add_sa(out1).ok());
  EXPECT_TRUE(out1.config.encryption_key.empty()) << "the request's key copy must be wiped";
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "192.168.10.0/24", "10.0.2.0/24", 5)).ok());
  EXPECT_EQ(choose(state, "192.168.10.10", "10.0.2.10").spi, 0x1001u);
  EXPECT_EQ(choose(state, "192.168.11.10", "10.0.2.10").spi, 0u) << "source outside the selector";
  EXPECT_FALSE(choose(state, "192.168.11.10", "10.0.2.10").connection);

  // Rekey: the new outbound SA takes over at once; the policy is re-added
  // (refcount 2) and the old one's deletion leaves it in place.
  auto out2 = sa(0x1002, false, 5);
  ASSERT_TRUE(state.add_sa(out2).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "192.168.10.0/24", "10.0.2.0/24", 5)).ok());
  EXPECT_EQ(choose(state, "192.168.10.10", "10.0.2.10").spi, 0x1002u);
  ASSERT_TRUE(state.del_policy(policy(PolicyDirection::out, "192.168.10.0/24", "10.0.2.0/24", 0)).ok());
  control::SaKey old_key = out1.key;
  ASSERT_TRUE(state.del_sa(old_key).ok());
  EXPECT_EQ(choose(state, "192.168.10.10", "10.0.2.10").spi, 0x1002u);
  ASSERT_TRUE(state.del_policy(policy(PolicyDirection::out, "192.168.10.0/24", "10.0.2.0/24", 0)).ok());
  EXPECT_EQ(choose(state, "192.168.10.10", "10.0.2.10").spi, 0u) << "last reference gone";
  EXPECT_FALSE(state.del_policy(policy(PolicyDirection::out, "192.168.10.0/24", "10.0.2.0/24", 0)).ok());
}

TEST(IpsecState, PolicyWithoutSaIsCountedForItsConnection) {
  IpsecState state({});
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "10.0.0.0/8", 3)).ok());
  Chosen c = choose(state, "1.2.3.4", "10.9.9.9");
  EXPECT_EQ(c.spi, 0u);
  EXPECT_TRUE(c.connection);
  EXPECT_EQ(c.drop, ConnectionDrop::no_outbound_sa);
}

TEST(IpsecState, LongestDestinationWinsAndRoutesSelectTheInterface) {
  IpsecState state({});
  for (auto [spi, reqid] : {std::pair{0x2001u, 1u}, {0x2002u, 2u}, {0x2003u, 3u}, {0x2004u, 4u}}) {
    auto r = sa(spi, false, reqid);
    ASSERT_TRUE(state.add_sa(r).ok());
  }
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "10.0.0.0/8", 1)).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "10.0.2.0/24", 2)).ok());
  EXPECT_EQ(choose(state, "1.1.1.1", "10.0.2.5").spi, 0x2002u);
  EXPECT_EQ(choose(state, "1.1.1.1", "10.0.3.5").spi, 0x2001u);
  // Route-based: 0/0 policies that differ only in if_id; the route decides.
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "0.0.0.0/0", 3, 30)).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "0.0.0.0/0", 4, 40)).ok());
  EXPECT_EQ(choose(state, "1.1.1.1", "172.20.0.1").spi, 0u) << "no route: no if_id 0 policy matches";
  ASSERT_TRUE(state.add_route({*IpPrefix::parse("172.20.0.0/16"), 30}).ok());
  ASSERT_TRUE(state.add_route({*IpPrefix::parse("172.21.0.0/16"), 40}).ok());
  EXPECT_EQ(choose(state, "1.1.1.1", "172.20.0.1").spi, 0x2003u);
  EXPECT_EQ(choose(state, "1.1.1.1", "172.21.0.1").spi, 0x2004u);
  ASSERT_TRUE(state.del_route({*IpPrefix::parse("172.21.0.0/16"), 40}).ok());
  EXPECT_EQ(choose(state, "1.1.1.1", "172.21.0.1").spi, 0u);
}

// Two tunnels of an active-active Azure gateway: one prefix routed into both
// interface ids.
TEST(IpsecState, EcmpRouteSpreadsFlowsKeepsEachOnOneTunnelAndFailsOver) {
  IpsecState state({});
  for (auto [spi, reqid] : {std::pair{0x5001u, 51u}, {0x5002u, 52u}}) {
    auto r = sa(spi, false, reqid);
    ASSERT_TRUE(state.add_sa(r).ok());
  }
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "0.0.0.0/0", 51, 31)).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "0.0.0.0/0", 52, 32)).ok());
  const auto vnet = *IpPrefix::parse("10.1.0.0/16");
  ASSERT_TRUE(state.add_route({vnet, 31}).ok());
  ASSERT_TRUE(state.add_route({vnet, 32}).ok());
  ASSERT_TRUE(state.add_route({vnet, 32}).ok()) << "adding an if_id twice is idempotent";
  std::map<uint32_t, int> used;
  std::vector<std::string> sources;
  for (int i = 1; i <= 64; ++i) sources.push_back("192.168.10." + std::to_string(i));
  for (const auto& source : sources) {
    const uint32_t spi = choose(state, source.c_str(), "10.1.0.4").spi;
    ++used[spi];
    EXPECT_EQ(choose(state, source.c_str(), "10.1.0.4").spi, spi) << "a flow stays on its tunnel";
  }
  EXPECT_GT(used[0x5001], 8) << "flows spread over both tunnels";
  EXPECT_GT(used[0x5002], 8);
  EXPECT_EQ(used[0x5001] + used[0x5002], 64);

  // The first tunnel loses its SA: its flows move to the second at once.
  control::SaKey gone = sa(0x5001, false, 51).key;
  ASSERT_TRUE(state.del_sa(gone).ok());
  for (const auto& source : sources) EXPECT_EQ(choose(state, source.c_str(), "10.1.0.4").spi, 0x5002u);

  // Removing one if_id leaves the other; removing one that is not there fails.
  ASSERT_TRUE(state.del_route({vnet, 32}).ok());
  EXPECT_FALSE(state.del_route({vnet, 32}).ok());
  EXPECT_EQ(choose(state, "192.168.10.1", "10.1.0.4").spi, 0u) << "only if_id 31 left, without an SA";
  ASSERT_TRUE(state.del_route({vnet, 31}).ok());
  EXPECT_FALSE(state.del_route({vnet, 31}).ok());
}

// Azure does not keep a flow's two directions on one tunnel: the reply to a
// packet sent into one instance's SA may arrive on the other instance's SA.
// Each route-based connection's in policy is any-to-any, so either SA's own
// connection accepts it.
TEST(IpsecState, ReplyOnTheOtherActiveActiveTunnelIsAccepted) {
  IpsecState state({});
  auto in1 = sa(0x6001, true, 61, /*udp=*/true);
  auto in2 = sa(0x6002, true, 62, /*udp=*/true);
  ASSERT_TRUE(state.add_sa(in1).ok());
  ASSERT_TRUE(state.add_sa(in2).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::in, "0.0.0.0/0", "0.0.0.0/0", 61, 31)).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::in, "0.0.0.0/0", "0.0.0.0/0", 62, 32)).ok());
  auto packet = ipv4("10.1.0.4", "192.168.10.10");
  IpsecState::ReadGuard guard(state);
  for (uint32_t spi : {0x6001u, 0x6002u}) {
    const esp::SaId id = esp::sa_id(*state.table().find_inbound(spi));
    ConnectionStats* connection = nullptr;
    EXPECT_EQ(state.check_inbound(id, true, packet.data(), packet.size(), connection), InboundVerdict::ok);
    EXPECT_NE(connection, nullptr);
  }
}

TEST(IpsecState, InboundEnforcesSelectorsAndEncapsulation) {
  IpsecState state({});
  auto in = sa(0x3001, true, 9, /*udp=*/true);
  ASSERT_TRUE(state.add_sa(in).ok());
  esp::SaId id;
  {
    IpsecState::ReadGuard guard(state);
    id = esp::sa_id(*state.table().find_inbound(0x3001));
  }
  auto check = [&](const char* src, const char* dst, bool udp) {
    auto packet = ipv4(src, dst);
    IpsecState::ReadGuard guard(state);
    ConnectionStats* connection = nullptr;
    return state.check_inbound(id, udp, packet.data(), packet.size(), connection);
  };
  EXPECT_EQ(check("10.0.2.10", "192.168.10.10", true), InboundVerdict::no_inbound_policy);
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::in, "10.0.2.0/24", "192.168.10.0/24", 9)).ok());
  EXPECT_EQ(check("10.0.2.10", "192.168.10.10", true), InboundVerdict::ok);
  EXPECT_EQ(check("10.0.3.10", "192.168.10.10", true), InboundVerdict::inner_selector);
  EXPECT_EQ(check("10.0.2.10", "192.168.10.10", false), InboundVerdict::wrong_encap);
}

TEST(IpsecState, SpisAreReservedAndUnique) {
  IpsecState state({});
  auto a = state.get_spi({*IpAddress::parse("172.16.0.2"), *IpAddress::parse("172.16.0.1")});
  auto b = state.get_spi({*IpAddress::parse("172.16.0.2"), *IpAddress::parse("172.16.0.1")});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_GE(*a, 0xc0000000u);
  EXPECT_LE(*a, 0xcfffffffu);
  auto dup = sa(0x4001, true, 1);
  ASSERT_TRUE(state.add_sa(dup).ok());
  auto again = sa(0x4001, true, 1);
  EXPECT_NE(state.add_sa(again).error().find("exists"), std::string::npos);
  auto replayed = sa(0x4001, true, 1);
  replayed.replay = true;
  EXPECT_TRUE(state.add_sa(replayed).ok()) << "a replay of an SA that is there is not an error";
}

TEST(IpsecState, ReplayAfterRestartResumesPastTheRecordedSequence) {
  char path[] = "/tmp/ergw-seq-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    IpsecState state({16, path});
    auto out = sa(0x5001, false, 1);
    ASSERT_TRUE(state.add_sa(out).ok());
    std::vector<ExpireEvent> e;
    std::vector<MappingEvent> m;
    std::vector<uint32_t> c;
    state.tick(IpsecState::Clock::now(), e, m, c);  // saves the file
  }
  IpsecState restarted({16, path});
  EXPECT_TRUE(restarted.load_warning().empty()) << restarted.load_warning();
  auto out = sa(0x5001, false, 1);
  out.replay = true;
  ASSERT_TRUE(restarted.add_sa(out).ok());
  bool found = false;
  for (const auto& r : restarted.sa_reports()) {
    if (r.spi != 0x5001) continue;
    found = true;
    EXPECT_EQ(r.sequence, kSequenceSkip);
  }
  EXPECT_TRUE(found);
  std::remove(path);
}

// The plugin's replay of an SA for which charon was given these counters.
AddSaRequest replayed(uint32_t spi, bool inbound, uint64_t packets, uint64_t bytes) {
  AddSaRequest r = sa(spi, inbound, 1);
  r.replay = true;
  r.reported_packets = packets;
  r.reported_bytes = bytes;
  return r;
}

// What charon sees through QUERY_SA only grows for the life of an SA, also
// when the fast path restarts and the plugin replays the SA.
struct RestartFixture : testing::TempSequenceFile {
  static void tick(IpsecState& state) {
    std::vector<ExpireEvent> e;
    std::vector<MappingEvent> m;
    std::vector<uint32_t> c;
    state.tick(IpsecState::Clock::now(), e, m, c);
  }
  // Carries `packets` packets of 100 octets on the SA, in one batch.
  static void carry(IpsecState& state, uint32_t spi, bool inbound, size_t packets) {
    IpsecState::ReadGuard guard(state);
    esp::Sa* sa = nullptr;
    for (esp::SaId id = 0; id < 64 && sa == nullptr; ++id) {
      esp::Sa* candidate = state.table().find(id);
      if (candidate != nullptr && esp::sa_config(*candidate).spi == spi) sa = candidate;
    }
    ASSERT_NE(sa, nullptr);
    const std::vector<size_t> lengths(packets, 100);
    if (inbound) {
      EXPECT_EQ(esp::charge_received(*sa, lengths), packets);
    } else {
      EXPECT_EQ(esp::reserve_burst(*sa, lengths).granted, packets);
    }
  }
  static IpsecState::Usage query(IpsecState& state, const AddSaRequest& r) {
    auto usage = state.query_sa(r.key);
    EXPECT_TRUE(usage.ok());
    return usage.ok() ? *usage : IpsecState::Usage{};
  }
};

TEST(IpsecState, CountersGoOnFromTheSequenceFileAfterARestart) {
  RestartFixture f;
  const auto out = sa(0x5101, false, 1);
  const auto in = sa(0x5102, true, 1);
  {
    IpsecState state({16, f.path});
    auto o = out, i = in;
    ASSERT_TRUE(state.add_sa(o).ok());
    ASSERT_TRUE(state.add_sa(i).ok());
    f.carry(state, 0x5101, false, 30);
    f.carry(state, 0x5102, true, 20);
    f.tick(state);  // saved: out 30/3000, in 20/2000
  }
  IpsecState restarted({16, f.path});
  auto o = out, i = in;
  o.replay = i.replay = true;  // the plugin replays them, without counters (never queried)
  ASSERT_TRUE(restarted.add_sa(o).ok());
  ASSERT_TRUE(restarted.add_sa(i).ok());
  EXPECT_EQ(f.query(restarted, out).packets, 30U);
  EXPECT_EQ(f.query(restarted, out).bytes, 3000U);
  EXPECT_EQ(f.query(restarted, in).packets, 20U);
  f.carry(restarted, 0x5101, false, 5);
  EXPECT_EQ(f.query(restarted, out).packets, 35U);
}

// MOBIKE moved the SA to 172.16.0.3; the fast path crashes before its next
// periodic save; the plugin replays the SA where it is now. Its sequence
// numbers must be found there: update_sa saves at once.
TEST(IpsecState, AMovedSaResumesItsSequenceWhenReplayedAtItsNewAddress) {
  RestartFixture f;
  const auto moved_to = *IpAddress::parse("172.16.0.3");
  {
    IpsecState state({16, f.path});
    auto out = sa(0x5401, false, 1);
    ASSERT_TRUE(state.add_sa(out).ok());
    f.carry(state, 0x5401, false, 40);
    RestartFixture::tick(state);  // the record, under 172.16.0.2
    UpdateSaRequest move;
    move.key = out.key;
    move.new_src = out.key.src;
    move.new_dst = moved_to;
    ASSERT_TRUE(state.update_sa(move).ok());
    f.carry(state, 0x5401, false, 10);  // not saved: no tick before the crash
  }
  IpsecState restarted({16, f.path});
  auto out = sa(0x5401, false, 1);
  out.replay = true;
  out.key.dst = moved_to;
  out.config.remote = moved_to;
  ASSERT_TRUE(restarted.add_sa(out).ok());
  bool found = false;
  for (const auto& r : restarted.sa_reports()) {
    if (r.spi != 0x5401) continue;
    found = true;
    EXPECT_EQ(r.sequence, 40 + kSequenceSkip) << "the moved SA started again instead of resuming";
  }
  EXPECT_TRUE(found);
}

TEST(IpsecState, ReplayedCountersWinOverAnOlderSave) {
  RestartFixture f;
  const auto out = sa(0x5201, false, 1);
  IpsecState::Usage seen;
  {
    IpsecState state({16, f.path});
    auto o = out;
    ASSERT_TRUE(state.add_sa(o).ok());
    f.carry(state, 0x5201, false, 10);
    f.tick(state);                       // saved: 10 packets
    f.carry(state, 0x5201, false, 7);    // then 7 more, and charon asks
    seen = f.query(state, out);
    ASSERT_EQ(seen.packets, 17U);
  }                                      // killed before the next save
  IpsecState restarted({16, f.path});
  auto o = replayed(0x5201, false, seen.packets, seen.bytes);  // what the plugin last gave charon
  ASSERT_TRUE(restarted.add_sa(o).ok());
  const IpsecState::Usage after = f.query(restarted, out);
  EXPECT_EQ(after.packets, 17U) << "never below what charon saw";
  EXPECT_EQ(after.bytes, 1700U);
}

TEST(IpsecState, ReplayedCountersWithoutASequenceFile) {
  IpsecState state({});
  auto in = replayed(0x5301, true, 500, 64000);
  ASSERT_TRUE(state.add_sa(in).ok());
  const auto usage = RestartFixture::query(state, sa(0x5301, true, 1));
  EXPECT_EQ(usage.packets, 500U);
  EXPECT_EQ(usage.bytes, 64000U);
}

TEST(IpsecState, ReplayedCountersCountTowardsTheHardLifetime) {
  IpsecState state({});
  auto out = replayed(0x5401, false, 98, 9800);
  out.config.lifetime.hard.packets = 100;
  ASSERT_TRUE(state.add_sa(out).ok());
  IpsecState::ReadGuard guard(state);
  esp::Sa* sa_ptr = nullptr;
  for (esp::SaId id = 0; id < 8 && sa_ptr == nullptr; ++id) sa_ptr = state.table().find(id);
  ASSERT_NE(sa_ptr, nullptr);
  EXPECT_EQ(esp::reserve_burst(*sa_ptr, std::vector<size_t>(5, 100)).granted, 2U);
}

TEST(IpsecState, StatusJsonHasConnectionsAndNamedDrops) {
  IpsecState state({});
  auto out = sa(0x6001, false, 8);
  ASSERT_TRUE(state.add_sa(out).ok());
  ASSERT_TRUE(state.add_policy(policy(PolicyDirection::out, "0.0.0.0/0", "10.0.0.0/8", 8)).ok());
  const std::string json = state.status_json();
  EXPECT_NE(json.find("\"reqid\":8"), std::string::npos) << json;
  EXPECT_NE(json.find("\"icv_mismatch\":0"), std::string::npos);
  EXPECT_NE(json.find("\"inner_selector\":0"), std::string::npos);
  EXPECT_EQ(json.find("4242"), std::string::npos) << "no key bytes";
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
