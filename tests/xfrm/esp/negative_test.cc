// Every malformed, forged or replayed packet is dropped with its named reason
// and counted; nothing crashes and nothing reaches the caller.
#include <gtest/gtest.h>

#include "tests/xfrm/esp/esp_test_util.h"

namespace ergw::xfrm::esp {
namespace {

using namespace testing;

class NegativeTest : public ::testing::TestWithParam<Algorithm> {
 protected:
  void SetUp() override {
    out_config_ = make_config(GetParam(), Direction::outbound, false, 0x3000);
    auto out = table_.add(out_config_);
    auto in = table_.add(mirror(out_config_));
    ASSERT_TRUE(out.ok() && in.ok());
    out_id_ = *out;
    in_id_ = *in;
  }

  std::vector<uint8_t> next_packet(int version = 4, size_t length = 100) {
    const auto inner = inner_packet(version, length);
    PacketBuffer buffer(inner);
    const EncapResult e = table_.encapsulate(out_id_, buffer.span(), buffer.inner_offset, buffer.inner_length);
    EXPECT_TRUE(e.ok);
    return {buffer.bytes.begin() + static_cast<std::ptrdiff_t>(e.esp_offset),
            buffer.bytes.begin() + static_cast<std::ptrdiff_t>(e.esp_offset + e.esp_length)};
  }

  DropReason decap_drop(std::vector<uint8_t> packet) {
    const DecapResult r = table_.decapsulate(packet);
    EXPECT_FALSE(r.ok);
    return r.ok ? DropReason::crypto_failure : r.drop;
  }

  uint64_t inbound_drops(DropReason reason) {
    auto lock = table_.read_lock();
    return sa_counters(*table_.find(in_id_)).drop_count(reason);
  }

  size_t align() const { return GetParam().is_aead() ? 4 : 16; }

  SaTable table_;
  SaConfig out_config_;
  SaId out_id_ = kInvalidSaId;
  SaId in_id_ = kInvalidSaId;
};

TEST_P(NegativeTest, TamperedIcvCiphertextOrHeader) {
  for (size_t position : {size_t{0} /*SPI is fine: unknown SPI*/, size_t{5}, size_t{9}, size_t{30}}) {
    auto packet = next_packet();
    if (position == 0) continue;
    packet[position] ^= 0x01;
    EXPECT_EQ(decap_drop(packet), DropReason::icv_mismatch) << "byte " << position;
  }
  auto packet = next_packet();
  packet.back() ^= 0x80;  // the ICV itself
  EXPECT_EQ(decap_drop(packet), DropReason::icv_mismatch);
  EXPECT_EQ(inbound_drops(DropReason::icv_mismatch), 4U);
  // A forged packet does not advance the window (RFC 4303 3.4.3): the genuine
  // packets with those numbers are still accepted afterwards.
  auto lock = table_.read_lock();
  EXPECT_EQ(sa_sequence(*table_.find(in_id_)), 0U);
}

TEST_P(NegativeTest, ForgedPacketDoesNotBlockTheGenuineOne) {
  auto genuine = next_packet();
  auto forged = genuine;
  forged[forged.size() - 3] ^= 0x55;
  EXPECT_EQ(decap_drop(forged), DropReason::icv_mismatch);
  EXPECT_TRUE(table_.decapsulate(genuine).ok);
}

TEST_P(NegativeTest, ReplayedPacket) {
  auto packet = next_packet();
  auto copy = packet;
  EXPECT_TRUE(table_.decapsulate(packet).ok);
  EXPECT_EQ(decap_drop(copy), DropReason::replayed);
  EXPECT_EQ(inbound_drops(DropReason::replayed), 1U);
}

TEST_P(NegativeTest, PacketLeftOfTheWindow) {
  auto old_packet = next_packet();  // sequence 1
  for (int i = 0; i < 64; ++i) next_packet();
  auto newest = next_packet();      // sequence 66
  EXPECT_TRUE(table_.decapsulate(newest).ok);
  EXPECT_EQ(decap_drop(old_packet), DropReason::left_of_window);
  EXPECT_EQ(inbound_drops(DropReason::left_of_window), 1U);
}

TEST_P(NegativeTest, OutOfOrderWithinTheWindowIsAccepted) {
  std::vector<std::vector<uint8_t>> packets;
  for (int i = 0; i < 40; ++i) packets.push_back(next_packet());
  for (int i = 39; i >= 0; --i) EXPECT_TRUE(table_.decapsulate(packets[static_cast<size_t>(i)]).ok) << i;
}

TEST_P(NegativeTest, BadPadding) {
  const auto plain = trailer_plaintext(inner_packet(4, 101), align(), 4, /*corrupt_padding=*/true);
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 1, plain)), DropReason::bad_padding);
  EXPECT_EQ(inbound_drops(DropReason::bad_padding), 1U);
}

TEST_P(NegativeTest, PadLengthBeyondThePayload) {
  auto plain = trailer_plaintext(inner_packet(4, 42), align(), 4);
  plain[plain.size() - 2] = 250;
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 1, plain)), DropReason::bad_pad_length);
}

TEST_P(NegativeTest, WrongNextHeader) {
  // 41 (IPv6) announced for an IPv4 packet, 4 for IPv6, and an unrelated protocol.
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 1, trailer_plaintext(inner_packet(4, 100), align(), 41))),
            DropReason::wrong_next_header);
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 2, trailer_plaintext(inner_packet(6, 100), align(), 4))),
            DropReason::wrong_next_header);
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 3, trailer_plaintext(inner_packet(4, 100), align(), 17))),
            DropReason::wrong_next_header);
  EXPECT_EQ(inbound_drops(DropReason::wrong_next_header), 3U);
}

TEST_P(NegativeTest, DummyPacketIsDiscardedQuietly) {
  // RFC 4303 2.6: next header 59 marks a dummy packet.
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 1, trailer_plaintext(pattern(30, 1), align(), 59))),
            DropReason::dummy_packet);
}

TEST_P(NegativeTest, InnerLengthInconsistent) {
  auto inner = inner_packet(4, 100);
  inner[2] = 0x05;  // total length 0x0564 > payload
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 1, trailer_plaintext(inner, align(), 4))),
            DropReason::bad_inner_packet);
  auto inner6 = inner_packet(6, 100);
  inner6[4] = 0x10;  // payload length larger than the packet
  EXPECT_EQ(decap_drop(seal_raw(out_config_, 2, trailer_plaintext(inner6, align(), 41))),
            DropReason::bad_inner_packet);
}

TEST_P(NegativeTest, TfcPaddingAfterTheInnerPacketIsStripped) {
  // RFC 4303 2.7: the inner header's length wins over the payload length.
  auto inner = inner_packet(4, 60);
  auto padded = inner;
  padded.resize(90, 0);
  const auto packet = seal_raw(out_config_, 1, trailer_plaintext(padded, align(), 4));
  auto copy = packet;
  const DecapResult r = table_.decapsulate(copy);
  ASSERT_TRUE(r.ok) << to_string(r.drop);
  EXPECT_EQ(r.inner_length, 60U);
}

TEST_P(NegativeTest, TruncatedPackets) {
  const auto packet = next_packet();
  for (size_t length = 0; length < packet.size(); ++length) {
    std::vector<uint8_t> cut(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(length));
    const DecapResult r = table_.decapsulate(cut);
    EXPECT_FALSE(r.ok) << length;
    const bool allowed = r.drop == DropReason::truncated || r.drop == DropReason::icv_mismatch ||
                         r.drop == DropReason::bad_block_alignment;
    EXPECT_TRUE(allowed) << length << " " << to_string(r.drop);
  }
  // Shorter than header + one block + ICV: named truncated, before any crypto.
  std::vector<uint8_t> tiny(packet.begin(), packet.begin() + 12);
  EXPECT_EQ(decap_drop(tiny), DropReason::truncated);
  EXPECT_EQ(table_.table_drops()[static_cast<size_t>(DropReason::truncated)], 8U);  // lengths 0..7
  EXPECT_GT(inbound_drops(DropReason::truncated), 0U);
}

TEST_P(NegativeTest, OversizedPackets) {
  auto lock = table_.read_lock();
  std::vector<uint8_t> huge(70'000, 0);
  store_be32(huge.data(), out_config_.spi);
  EXPECT_EQ(decapsulate(*table_.find(in_id_), huge).drop, DropReason::oversized);
  huge[64] = 0x45;
  EXPECT_EQ(encapsulate(*table_.find(out_id_), huge, 64, 66'000).drop, DropReason::oversized);
}

TEST_P(NegativeTest, UnknownSpi) {
  auto packet = next_packet();
  store_be32(packet.data(), 0x0badf00d);
  const DecapResult r = table_.decapsulate(packet);
  EXPECT_EQ(r.drop, DropReason::unknown_spi);
  EXPECT_EQ(r.sa, kInvalidSaId);
  EXPECT_EQ(table_.table_drops()[static_cast<size_t>(DropReason::unknown_spi)], 1U);
}

TEST_P(NegativeTest, WrongDirection) {
  auto lock = table_.read_lock();
  std::vector<uint8_t> packet = pattern(100, 3);
  EXPECT_EQ(decapsulate(*table_.find(out_id_), packet).drop, DropReason::wrong_direction);
  PacketBuffer buffer(inner_packet(4, 60));
  EXPECT_EQ(encapsulate(*table_.find(in_id_), buffer.span(), buffer.inner_offset, buffer.inner_length).drop,
            DropReason::wrong_direction);
}

TEST_P(NegativeTest, EncapsulateRefusesBadInputsAndSmallBuffers) {
  auto lock = table_.read_lock();
  Sa& sa = *table_.find(out_id_);
  std::vector<uint8_t> not_ip = pattern(60, 0);
  not_ip[0] = 0x20;
  PacketBuffer a(not_ip);
  EXPECT_EQ(encapsulate(sa, a.span(), a.inner_offset, a.inner_length).drop, DropReason::bad_inner_packet);
  PacketBuffer b(inner_packet(4, 60));
  EXPECT_EQ(encapsulate(sa, b.span(), 4, b.inner_length).drop, DropReason::buffer_too_small);  // no headroom
  EXPECT_EQ(encapsulate(sa, std::span<uint8_t>(b.bytes).first(b.inner_offset + 61), b.inner_offset, 60).drop,
            DropReason::buffer_too_small);  // no tailroom
  EXPECT_EQ(encapsulate(sa, b.span(), b.bytes.size(), 100).drop, DropReason::buffer_too_small);
  EXPECT_EQ(sa_counters(sa).drop_count(DropReason::buffer_too_small), 3U);
  EXPECT_EQ(sa_counters(sa).packets, 0U);
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, NegativeTest, ::testing::ValuesIn(all_algorithms()),
                         [](const auto& p) {
                           std::string name = to_string(p.param);
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST(DropReasons, NamesComeFromTheOneList) {
  EXPECT_EQ(to_string(DropReason::icv_mismatch), "icv_mismatch");
  EXPECT_EQ(to_string(DropReason::left_of_window), "left_of_window");
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    EXPECT_FALSE(to_string(static_cast<DropReason>(i)).empty());
    EXPECT_FALSE(describe(static_cast<DropReason>(i)).empty());
  }
}

}  // namespace
}  // namespace ergw::xfrm::esp
