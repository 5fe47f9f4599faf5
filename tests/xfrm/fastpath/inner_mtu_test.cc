#include <gtest/gtest.h>

#include "xfrm/fastpath/datapath.h"
#include "xfrm/fastpath/sa_file.h"
#include "xfrm/fastpath/static_sas.h"

namespace ergw::xfrm::fastpath {
namespace {

SaFile one_sa(const std::string& sa) {
  auto file = parse_sa_file(R"J({"version": 1, "sas": [)J" + sa + "]}");
  EXPECT_TRUE(file.ok()) << file.error();
  return file.ok() ? *file : SaFile{};
}

const std::string kGcm = R"J("aead": {"name": "rfc4106(gcm(aes))", "key": "0x)J" + std::string(72, '1') + R"J("})J";
const std::string kCbc = R"J("enc": {"name": "cbc(aes)", "key": "0x)J" + std::string(64, '2') +
                         R"J("}, "auth": {"name": "hmac(sha256)", "key": "0x)J" + std::string(64, '3') + R"J("})J";

TEST(InnerMtu, GcmOverIpv4Udp) {
  // 20 IPv4 + 8 UDP + 8 SPI/seq + 8 IV + 3 pad + 2 trailer + 16 ICV = 65.
  SaFile f = one_sa(R"J({"dir": "out", "src": "172.16.0.1", "dst": "172.16.0.2", "spi": 4096,
      "encap": {"type": "espinudp"}, )J" + kGcm + "}");
  EXPECT_EQ(inner_mtu_for(static_overhead(f), 1500), 1435);
}

TEST(InnerMtu, CbcOverIpv6UdpIsTheWorstCase) {
  // 40 + 8 + 8 + 16 IV + 15 pad + 2 + 16 ICV = 105.
  SaFile f = one_sa(R"J({"dir": "out", "src": "fd16::1", "dst": "fd16::2", "spi": 4096,
      "encap": {"type": "espinudp"}, )J" + kCbc + "}");
  EXPECT_EQ(inner_mtu_for(static_overhead(f), 1500), 1395);
  EXPECT_EQ(inner_mtu_for(static_overhead(f), 9000), 8895);
}

TEST(InnerMtu, InboundSasDoNotCount) {
  SaFile f = one_sa(R"J({"dir": "out", "src": "172.16.0.1", "dst": "172.16.0.2", "spi": 4096, )J" + kGcm +
                    R"J(}, {"dir": "in", "src": "fd16::2", "dst": "fd16::1", "spi": 4097,
      "encap": {"type": "espinudp"}, )J" + kCbc + "}");
  EXPECT_EQ(inner_mtu_for(static_overhead(f), 1500), 1443);  // raw ESP over IPv4: 20 + 8 + 8 + 3 + 2 + 16 = 57
}

}  // namespace
}  // namespace ergw::xfrm::fastpath
