#include "xfrm/io/esp_in_udp.h"

#include <gtest/gtest.h>

#include <vector>

namespace ergw::xfrm::io {
namespace {

UdpEncapKind classify(std::vector<uint8_t> bytes) { return classify_udp_encap(bytes); }

TEST(EspInUdp, SingleFfIsNatKeepalive) { EXPECT_EQ(classify({0xff}), UdpEncapKind::kKeepalive); }

TEST(EspInUdp, ZeroMarkerIsIkeAndNeverEsp) {
  // RFC 3948 §2.2: the Non-ESP Marker precedes an IKE header.
  std::vector<uint8_t> ike(32, 0x11);
  ike[0] = ike[1] = ike[2] = ike[3] = 0;
  EXPECT_EQ(classify(ike), UdpEncapKind::kIke);
  EXPECT_EQ(classify({0, 0, 0, 0}), UdpEncapKind::kIke);
}

TEST(EspInUdp, NonZeroSpiIsEsp) {
  EXPECT_EQ(classify({0, 0, 0x10, 0x01, 0, 0, 0, 1}), UdpEncapKind::kEsp);
  EXPECT_EQ(classify({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0xaa}), UdpEncapKind::kEsp);
}

TEST(EspInUdp, ShortDatagramsAreMalformed) {
  EXPECT_EQ(classify({}), UdpEncapKind::kMalformed);
  EXPECT_EQ(classify({0xfe}), UdpEncapKind::kMalformed);
  EXPECT_EQ(classify({0xff, 0xff}), UdpEncapKind::kMalformed);
  EXPECT_EQ(classify({0, 0, 0x10, 0x01, 0, 0, 0}), UdpEncapKind::kMalformed);
}

}  // namespace
}  // namespace ergw::xfrm::io
