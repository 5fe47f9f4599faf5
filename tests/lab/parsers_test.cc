// Parsers of the traffic tools' output: iputils ping and iperf3 --json.
#include <gtest/gtest.h>

#include "lab/traffic.h"

namespace ergw::lab {
namespace {

constexpr const char* kPingOk =
    "PING 10.0.2.10 (10.0.2.10) 56(84) bytes of data.\n"
    "64 bytes from 10.0.2.10: icmp_seq=1 ttl=62 time=0.529 ms\n"
    "64 bytes from 10.0.2.10: icmp_seq=2 ttl=62 time=1.13 ms\n"
    "64 bytes from 10.0.2.10: icmp_seq=3 ttl=62 time=0.835 ms\n"
    "\n"
    "--- 10.0.2.10 ping statistics ---\n"
    "3 packets transmitted, 3 received, 0% packet loss, time 403ms\n"
    "rtt min/avg/max/mdev = 0.529/0.833/1.136/0.247 ms\n";

TEST(LabPingOutput, CountsRepliesAndRtt) {
  auto r = parse_ping_output(kPingOk);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->transmitted, 3);
  EXPECT_EQ(r->received, 3);
  EXPECT_DOUBLE_EQ(r->loss_percent, 0.0);
  ASSERT_TRUE(r->rtt_avg_ms.has_value());
  EXPECT_DOUBLE_EQ(*r->rtt_avg_ms, 0.833);
  EXPECT_EQ(r->received_seqs, (std::vector<int>{1, 2, 3}));
}

TEST(LabPingOutput, TotalLossWithErrors) {
  auto r = parse_ping_output(
      "PING 10.9.9.9 (10.9.9.9) 56(84) bytes of data.\n"
      "From 10.0.1.1 icmp_seq=1 Destination Host Unreachable\n"
      "\n--- 10.9.9.9 ping statistics ---\n"
      "2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1001ms\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->transmitted, 2);
  EXPECT_EQ(r->received, 0);
  EXPECT_DOUBLE_EQ(r->loss_percent, 100.0);
  EXPECT_FALSE(r->rtt_avg_ms.has_value());
  EXPECT_TRUE(r->received_seqs.empty());  // "From ... icmp_seq=1" is an error, not a reply
}

TEST(LabPingOutput, DuplicatesCountOnce) {
  auto r = parse_ping_output(
      "64 bytes from 1.2.3.4: icmp_seq=1 ttl=64 time=0.1 ms\n"
      "64 bytes from 1.2.3.4: icmp_seq=1 ttl=64 time=0.2 ms (DUP!)\n"
      "1 packets transmitted, 1 received, +1 duplicates, 0% packet loss, time 0ms\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->received_seqs, (std::vector<int>{1}));
}

TEST(LabPingOutput, NoSummaryIsAnError) {
  EXPECT_FALSE(parse_ping_output("ping: connect: Network is unreachable\n").ok());
  EXPECT_FALSE(parse_ping_output("").ok());
}

TEST(LabContinuousPing, GapsUpToTheLastReplyAreLost) {
  PingResult p;
  p.transmitted = 10;
  p.received = 6;
  p.received_seqs = {1, 2, 4, 5, 7, 8};  // 3 and 6 lost; 9, 10 still in flight at SIGINT
  const auto report = summarize_continuous_ping(p);
  EXPECT_EQ(report.lost, 2);
  EXPECT_EQ(report.missing_seqs, (std::vector<int>{3, 6}));
  EXPECT_EQ(report.transmitted, 10);
  EXPECT_EQ(report.received, 6);
}

TEST(LabContinuousPing, NothingAnsweredMeansAllLost) {
  PingResult p;
  p.transmitted = 5;
  EXPECT_EQ(summarize_continuous_ping(p).lost, 5);
}

// Shape of iperf3 3.12 --json client output, trimmed to what the parser reads.
constexpr const char* kIperfJson = R"({
  "start": {"test_start": {"protocol": "TCP", "duration": 5}},
  "intervals": [],
  "end": {
    "sum_sent": {"start": 0, "end": 5.0, "seconds": 5.0, "bytes": 187695104,
                 "bits_per_second": 300312166.4, "retransmits": 17, "sender": true},
    "sum_received": {"start": 0, "end": 5.01, "seconds": 5.01, "bytes": 186122240,
                     "bits_per_second": 297201381.2, "sender": true}
  }
})";

TEST(LabIperfJson, ThroughputAndRetransmits) {
  auto r = parse_iperf3_json(kIperfJson);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_DOUBLE_EQ(r->sent_bits_per_second, 300312166.4);
  EXPECT_DOUBLE_EQ(r->received_bits_per_second, 297201381.2);
  EXPECT_EQ(r->retransmits, 17);
  EXPECT_DOUBLE_EQ(r->seconds, 5.01);
  EXPECT_EQ(r->bytes_received, 186122240);
}

TEST(LabIperfJson, ErrorReportIsAnError) {
  auto r = parse_iperf3_json(R"({"start": {}, "intervals": [], "end": {},
    "error": "unable to connect to server: Connection refused"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("Connection refused"), std::string::npos);
}

TEST(LabIperfJson, GarbageIsAnError) {
  EXPECT_FALSE(parse_iperf3_json("iperf3: error - unable to connect").ok());
  EXPECT_FALSE(parse_iperf3_json(R"({"end": {}})").ok());
}

}  // namespace
}  // namespace ergw::lab
