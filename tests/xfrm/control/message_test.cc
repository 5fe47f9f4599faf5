#include "xfrm/control/message.h"

#include <gtest/gtest.h>

namespace ergw::xfrm::control {
namespace {

TEST(ControlMessage, RoundTripOfEveryValueKind) {
  TrafficSelector ts{6, *IpPrefix::parse("10.1.0.0/16"), 80, 443};
  auto bytes = MessageWriter(ERGW_IPSEC_MSG_ADD_POLICY, 77)
                   .u8(ERGW_IPSEC_ATTR_DIRECTION, 1)
                   .u16(ERGW_IPSEC_ATTR_SRC_PORT, 4500)
                   .u32(ERGW_IPSEC_ATTR_REQID, 9)
                   .u64(ERGW_IPSEC_ATTR_BYTES, 1ULL << 40)
                   .u32x2(ERGW_IPSEC_ATTR_MARK, {1, 0xff})
                   .u64x3(ERGW_IPSEC_ATTR_LIFETIME_SOFT, {1, 2, 3})
                   .address(ERGW_IPSEC_ATTR_DST, *IpAddress::parse("fd16::2"))
                   .text(ERGW_IPSEC_ATTR_NAME, "abc")
                   .selector(ERGW_IPSEC_ATTR_SRC_TS, ts)
                   .selector(ERGW_IPSEC_ATTR_SRC_TS, {0, *IpPrefix::parse("::/0"), 0, 65535})
                   .finish();
  EXPECT_EQ(bytes.size() % 4, 0u);
  auto m = MessageReader::parse(bytes);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->header().type, ERGW_IPSEC_MSG_ADD_POLICY);
  EXPECT_EQ(m->header().sequence, 77u);
  EXPECT_EQ(**m->u8(ERGW_IPSEC_ATTR_DIRECTION), 1);
  EXPECT_EQ(**m->u16(ERGW_IPSEC_ATTR_SRC_PORT), 4500);
  EXPECT_EQ(**m->u32(ERGW_IPSEC_ATTR_REQID), 9u);
  EXPECT_EQ(**m->u64(ERGW_IPSEC_ATTR_BYTES), 1ULL << 40);
  EXPECT_EQ((**m->u32x2(ERGW_IPSEC_ATTR_MARK))[1], 0xffu);
  EXPECT_EQ((**m->u64x3(ERGW_IPSEC_ATTR_LIFETIME_SOFT))[2], 3u);
  EXPECT_EQ((*m->address(ERGW_IPSEC_ATTR_DST))->to_string(), "fd16::2");
  EXPECT_EQ(**m->text(ERGW_IPSEC_ATTR_NAME), "abc");
  auto list = m->selectors(ERGW_IPSEC_ATTR_SRC_TS);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], ts);
  EXPECT_TRUE((*list)[1].any_protocol_and_port());
  EXPECT_FALSE(*m->u32(ERGW_IPSEC_ATTR_SPI));  // absent: nullopt, not an error
}

TEST(ControlMessage, RefusesBrokenFramingWithReasons) {
  auto good = MessageWriter(ERGW_IPSEC_MSG_DEL_SA, 1).u32(ERGW_IPSEC_ATTR_SPI, 5).finish();
  EXPECT_FALSE(MessageReader::parse(std::span(good.data(), 10)).ok());
  auto wrong_length = good;
  wrong_length[0] ^= 4;
  EXPECT_NE(MessageReader::parse(wrong_length).error().find("header length"), std::string::npos);
  auto wrong_version = good;
  wrong_version[4] = 9;
  EXPECT_NE(MessageReader::parse(wrong_version).error().find("protocol version 9"), std::string::npos);
  auto version_1 = good;  // before replayed ADD_SAs carried counters
  version_1[4] = 1;
  version_1[5] = 0;
  EXPECT_NE(MessageReader::parse(version_1).error().find("protocol version 1 (this side speaks 2)"),
            std::string::npos);
  auto unknown = good;
  unknown[16] = 0xee;
  EXPECT_NE(MessageReader::parse(unknown).error().find("unknown attribute"), std::string::npos);
  auto twice = MessageWriter(ERGW_IPSEC_MSG_DEL_SA, 1).u32(ERGW_IPSEC_ATTR_SPI, 5).u32(ERGW_IPSEC_ATTR_SPI, 6).finish();
  EXPECT_NE(MessageReader::parse(twice).error().find("spi given twice"), std::string::npos);
  auto overlong = good;
  overlong[18] = 200;  // attribute length past the end
  EXPECT_NE(MessageReader::parse(overlong).error().find("longer than the message"), std::string::npos);
}

TEST(ControlMessage, GettersNameTheAttributeOnBadLengths) {
  auto bytes = MessageWriter(ERGW_IPSEC_MSG_DEL_SA, 1).u16(ERGW_IPSEC_ATTR_SPI, 5).u8(ERGW_IPSEC_ATTR_DST, 1).finish();
  auto m = MessageReader::parse(bytes);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->u32(ERGW_IPSEC_ATTR_SPI).error(), "spi: must be 4 octets, got 2");
  EXPECT_NE(m->address(ERGW_IPSEC_ATTR_DST).error().find("dst: an address is 4 (IPv4) or 16 (IPv6) octets"),
            std::string::npos);
}

}  // namespace
}  // namespace ergw::xfrm::control
