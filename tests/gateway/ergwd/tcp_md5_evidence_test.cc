// The kernel's TCP MD5 drop counters (/proc/net/netstat) and what the status
// says with them about a BGP session that does not come up.
#include <gtest/gtest.h>

#include "gateway/ergwd/tcp_md5_evidence.h"

namespace ergw::gateway {
namespace {

// The shape of Linux 6.x's /proc/net/netstat (columns shortened).
constexpr const char* kNetstat =
    "TcpExt: SyncookiesSent SyncookiesRecv TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted\n"
    "TcpExt: 0 0 3 0 17 5\n"
    "IpExt: InNoRoutes InTruncatedPkts\n"
    "IpExt: 0 0\n";

TEST(TcpMd5Evidence, ReadsTheThreeCounters) {
  auto drops = parse_tcp_md5_drops(kNetstat);
  ASSERT_TRUE(drops);
  EXPECT_EQ(drops->wrong_signature, 17u);
  EXPECT_EQ(drops->missing_signature, 3u);
  EXPECT_EQ(drops->unexpected_signature, 0u);
}

TEST(TcpMd5Evidence, KernelsWithoutThemOrGarbageGiveNothing) {
  EXPECT_FALSE(parse_tcp_md5_drops("TcpExt: SyncookiesSent\nTcpExt: 0\n"));
  EXPECT_FALSE(parse_tcp_md5_drops("TcpExt: TCPMD5Failure TCPMD5NotFound\nTcpExt: 1\n"));
  EXPECT_FALSE(parse_tcp_md5_drops("TcpExt: TCPMD5Failure\nTcpExt: x1\n"));
  EXPECT_FALSE(parse_tcp_md5_drops(""));
  EXPECT_FALSE(parse_tcp_md5_drops("TcpExt: TCPMD5Failure"));
}

TEST(TcpMd5Evidence, ThisKernelReportsThemOrSaysNot) {
  // Not an assertion on the kernel: what it offers is printed.
  auto drops = read_tcp_md5_drops();
  std::cerr << "this kernel's TCP MD5 drop counters: "
            << (drops ? "TCPMD5Failure " + std::to_string(drops->wrong_signature) + ", TCPMD5NotFound " +
                            std::to_string(drops->missing_signature) + ", TCPMD5Unexpected " +
                            std::to_string(drops->unexpected_signature)
                      : std::string("none (no TCP_MD5SIG, or /proc/net/netstat unreadable)"))
            << "\n";
}

TEST(TcpMd5Evidence, TheProbeSaysWhatThisKernelOffers) {
  const auto md5 = probe_tcp_md5();
  std::cerr << "this kernel's TCP MD5 signatures (TCP_MD5SIG): " << (md5.present ? "yes" : "no") << " ("
            << md5.evidence << ")\n";
  EXPECT_FALSE(md5.evidence.empty());
}

TEST(TcpMd5Evidence, Hints) {
  EXPECT_NE(explain_tcp_md5(true, TcpMd5Drops{17, 0, 0}).find("differs from the connection's bgpPassword"),
            std::string::npos);
  EXPECT_NE(explain_tcp_md5(true, TcpMd5Drops{0, 3, 0}).find("the peer has no BGP password"), std::string::npos);
  EXPECT_NE(explain_tcp_md5(true, std::nullopt).find("compare the passwords"), std::string::npos);
  EXPECT_NE(explain_tcp_md5(false, TcpMd5Drops{0, 0, 2}).find("set the connection's bgpPassword"), std::string::npos);
  EXPECT_EQ(explain_tcp_md5(false, TcpMd5Drops{5, 5, 0}), "") << "without a password the other counters are not ours";
  EXPECT_EQ(explain_tcp_md5(false, std::nullopt), "");
}

}  // namespace
}  // namespace ergw::gateway
