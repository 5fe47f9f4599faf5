#include "tests/kernel/xfrm_state_text.h"

#include <gtest/gtest.h>

namespace ergw::kernel_tests {
namespace {

// `ip -s xfrm state` as Debian 12's iproute2 printed it in the kernel tier's
// VM (the peer kernel's two states after ping and iperf3; keys made up).
const char* const kTwoStates =
    "src 172.16.0.2 dst 172.16.0.1\n"
    "\tproto esp spi 0xc151313d(3243323709) reqid 1(0x00000001) mode tunnel\n"
    "\treplay-window 0 seq 0x00000000 flag af-unspec (0x00100000)\n"
    "\tauth-trunc hmac(sha256) 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f (256 bits) 128\n"
    "\tenc cbc(aes) 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f (256 bits)\n"
    "\tanti-replay context: seq 0x0, oseq 0x199, bitmap 0x00000000\n"
    "\tif_id 0x1\n"
    "\tlifetime config:\n"
    "\t  limit: soft 97960808944(bytes), hard 104857600000(bytes)\n"
    "\t  limit: soft (INF)(packets), hard (INF)(packets)\n"
    "\t  expire add: soft 0(sec), hard 27000(sec)\n"
    "\t  expire use: soft 0(sec), hard 0(sec)\n"
    "\tlifetime current:\n"
    "\t  353305(bytes), 409(packets)\n"
    "\t  add 2026-11-30 23:05:28 use 2026-11-30 23:05:37\n"
    "\tstats:\n"
    "\t  replay-window 0 replay 0 failed 0\n"
    "src 172.16.0.1 dst 172.16.0.2\n"
    "\tproto esp spi 0xc06a6629(3228198441) reqid 1(0x00000001) mode tunnel\n"
    "\treplay-window 32 seq 0x00000000 flag af-unspec (0x00100000)\n"
    "\taead rfc4106(gcm(aes)) 0x000102030405060708090a0b0c0d0e0f00010203 (160 bits) 128\n"
    "\tanti-replay context: seq 0x138, oseq 0x0, bitmap 0xffffffff\n"
    "\tif_id 0x1\n"
    "\tlifetime current:\n"
    "\t  193523(bytes), 312(packets)\n"
    "\t  add 2026-11-30 23:05:28 use 2026-11-30 23:05:37\n"
    "\tstats:\n"
    "\t  replay-window 0 replay 2 failed 7\n";

TEST(XfrmStateText, ReadsEachStatesAddressesSpiAndCounters) {
  const auto states = parse_xfrm_state_counters(kTwoStates);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].src, "172.16.0.2");
  EXPECT_EQ(states[0].dst, "172.16.0.1");
  EXPECT_EQ(states[0].spi, "0xc151313d");
  EXPECT_EQ(states[0].bytes, 353305u);
  EXPECT_EQ(states[0].packets, 409u);
  EXPECT_EQ(states[0].failed, 0u);
  EXPECT_EQ(states[1].spi, "0xc06a6629");
  EXPECT_EQ(states[1].bytes, 193523u);
  EXPECT_EQ(states[1].packets, 312u);
  EXPECT_EQ(states[1].failed, 7u);
}

TEST(XfrmStateText, SumsTheStatesOfOneDirection) {
  const auto states = parse_xfrm_state_counters(std::string(kTwoStates) + kTwoStates);
  const auto in = sum_xfrm_states(states, "172.16.0.1", "172.16.0.2");
  EXPECT_EQ(in.bytes, 2 * 193523u);
  EXPECT_EQ(in.packets, 2 * 312u);
  EXPECT_EQ(in.failed, 14u);
  EXPECT_EQ(sum_xfrm_states(states, "172.16.0.9", "172.16.0.2").packets, 0u);
}

TEST(XfrmStateText, StatesWithoutCountersKeepZeros) {
  // Plain `ip xfrm state` (no -s) has no counters.
  const auto states = parse_xfrm_state_counters(
      "src 192.0.2.1 dst 192.0.2.2\n\tproto esp spi 0x00000100 reqid 0 mode tunnel\n\treplay-window 0 \n");
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].spi, "0x00000100");
  EXPECT_EQ(states[0].bytes, 0u);
  EXPECT_EQ(states[0].packets, 0u);
  EXPECT_TRUE(parse_xfrm_state_counters("").empty());
}

TEST(XfrmStateText, PrintsNoKey) {
  const auto text = xfrm_state_without_keys(kTwoStates);
  EXPECT_EQ(text.find("000102030405"), std::string::npos) << text;
  EXPECT_NE(text.find("\tauth-trunc hmac(sha256) <key>\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\tenc cbc(aes) <key>\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\taead rfc4106(gcm(aes)) <key>\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  src 172.16.0.2 dst 172.16.0.1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ergw::kernel_tests
