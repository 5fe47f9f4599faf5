// Wire codec: round trips, exact bytes, size limits, and malformed input.
#include <gtest/gtest.h>

#include <string>

#include "vici/message_codec.h"
#include "vici/packet.h"

namespace ergw::vici {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

Message sample_message() {
  Message m;
  m.set("key1", "value1").set("empty", "");
  m.set_list("list", {"a", "", "ccc"});
  m.set_list("empty-list", List{});
  Section& outer = m.section("outer");
  outer.set("k", "v");
  outer.section("inner").section("deepest").set("x", std::string("\0\xff", 2));
  m.section("empty-section");
  return m;
}

TEST(ViciMessageCodec, ReadmeExampleBytes) {
  Message m;
  m.set("key1", "value1");
  Result<std::string> encoded = encode_message(m);
  ASSERT_TRUE(encoded) << encoded.error();
  EXPECT_EQ(*encoded, bytes({3, 4, 'k', 'e', 'y', '1', 0, 6, 'v', 'a', 'l', 'u', 'e', '1'}));
}

TEST(ViciMessageCodec, EveryElementTypeBytes) {
  Message m;
  m.section("s").set_list("l", {"x"});
  Result<std::string> encoded = encode_message(m);
  ASSERT_TRUE(encoded);
  EXPECT_EQ(*encoded, bytes({1, 1, 's', 4, 1, 'l', 5, 0, 1, 'x', 6, 2}));
}

TEST(ViciMessageCodec, RoundTripPreservesOrderAndKinds) {
  const Message m = sample_message();
  Result<std::string> encoded = encode_message(m);
  ASSERT_TRUE(encoded) << encoded.error();
  Result<Message> decoded = decode_message(*encoded);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(*decoded, m) << to_debug_string(*decoded);
  ASSERT_EQ(decoded->size(), m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ(decoded->entries()[i].name, m.entries()[i].name);
  }
}

TEST(ViciMessageCodec, EmptyMessage) {
  Result<std::string> encoded = encode_message(Message{});
  ASSERT_TRUE(encoded);
  EXPECT_TRUE(encoded->empty());
  Result<Message> decoded = decode_message("");
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->empty());
}

TEST(ViciMessageCodec, NameAndValueLimits) {
  Message ok;
  ok.set(std::string(255, 'n'), std::string(65535, 'v'));
  ok.set_list("l", {std::string(65535, 'i')});
  Result<std::string> encoded = encode_message(ok);
  ASSERT_TRUE(encoded) << encoded.error();
  Result<Message> decoded = decode_message(*encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, ok);

  Message long_name;
  long_name.set(std::string(256, 'n'), "v");
  EXPECT_FALSE(encode_message(long_name));
  Message long_section;
  long_section.section(std::string(256, 's'));
  EXPECT_FALSE(encode_message(long_section));
  Message long_value;
  long_value.set("data", std::string(65536, 'v'));
  Result<std::string> failed = encode_message(long_value);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().find("vvvv"), std::string::npos);
  Message long_item;
  long_item.set_list("l", {std::string(65536, 'i')});
  EXPECT_FALSE(encode_message(long_item));
}

TEST(ViciMessageCodec, MessageSizeLimit) {
  // 9 values of 64 KiB exceed 512 KiB; 7 do not.
  Message small;
  Message large;
  for (int i = 0; i < 9; ++i) {
    if (i < 7) small.set("k" + std::to_string(i), std::string(65535, 'x'));
    large.set("k" + std::to_string(i), std::string(65535, 'x'));
  }
  EXPECT_TRUE(encode_message(small));
  EXPECT_FALSE(encode_message(large));
  EXPECT_FALSE(decode_message(std::string(kMaxSegmentSize + 1, '\x02')));
}

TEST(ViciMessageCodec, DepthLimit) {
  Message ok;
  Section* s = &ok;
  for (std::size_t i = 0; i < kMaxSectionDepth; ++i) s = &s->section("s");
  EXPECT_TRUE(encode_message(ok));
  s->section("one-too-many");
  EXPECT_FALSE(encode_message(ok));

  std::string deep;
  for (std::size_t i = 0; i <= kMaxSectionDepth; ++i) deep += bytes({1, 1, 's'});
  for (std::size_t i = 0; i <= kMaxSectionDepth; ++i) deep += bytes({2});
  EXPECT_FALSE(decode_message(deep));
}

struct Malformed {
  const char* what;
  std::string input;
};

TEST(ViciMessageCodec, RejectsMalformed) {
  const Malformed cases[] = {
      {"unknown element 0", bytes({0})},
      {"unknown element 7", bytes({7})},
      {"truncated name length", bytes({3})},
      {"truncated name", bytes({3, 4, 'k', 'e'})},
      {"truncated value length", bytes({3, 1, 'k', 0})},
      {"truncated value", bytes({3, 1, 'k', 0, 3, 'a'})},
      {"unclosed section", bytes({1, 1, 's'})},
      {"section end without start", bytes({2})},
      {"extra section end", bytes({1, 1, 's', 2, 2})},
      {"unclosed list", bytes({4, 1, 'l', 5, 0, 0})},
      {"list inside list", bytes({4, 1, 'l', 4, 1, 'm', 6, 6})},
      {"item outside list", bytes({5, 0, 0})},
      {"list end without list", bytes({6})},
      {"key/value inside list", bytes({4, 1, 'l', 3, 1, 'k', 0, 0, 6})},
      {"section inside list", bytes({4, 1, 'l', 1, 1, 's', 2, 6})},
      {"section end inside list", bytes({1, 1, 's', 4, 1, 'l', 2, 6})},
      {"duplicate key", bytes({3, 1, 'k', 0, 0, 3, 1, 'k', 0, 0})},
      {"duplicate key, different kinds", bytes({3, 1, 'k', 0, 0, 4, 1, 'k', 6})},
      {"duplicate section", bytes({1, 1, 's', 2, 1, 1, 's', 2})},
      {"truncated item", bytes({4, 1, 'l', 5, 0})},
  };
  for (const Malformed& c : cases) {
    Result<Message> decoded = decode_message(c.input);
    EXPECT_FALSE(decoded) << c.what;
    if (!decoded) {
      EXPECT_EQ(decoded.error().rfind("vici decode: ", 0), 0u) << c.what;
    }
  }
}

TEST(ViciMessageCodec, SameKeyInDifferentSectionsIsFine) {
  Result<Message> decoded = decode_message(bytes({3, 1, 'k', 0, 0, 1, 1, 's', 3, 1, 'k', 0, 0, 2}));
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_TRUE((*decoded->get_section("s"))->contains("k"));
}

TEST(ViciMessageCodec, EveryTruncationOfAValidMessageIsHandled) {
  Result<std::string> encoded = encode_message(sample_message());
  ASSERT_TRUE(encoded);
  int rejected = 0;
  for (std::size_t n = 0; n < encoded->size(); ++n) {
    // A prefix may happen to end on an element boundary outside any section
    // and then decodes; it must never crash or read past its end.
    if (!decode_message(std::string_view(*encoded).substr(0, n))) ++rejected;
  }
  EXPECT_GT(rejected, static_cast<int>(encoded->size()) / 2);
}

TEST(ViciPacket, RoundTripEveryType) {
  Message m;
  m.set("k", "v");
  const Packet packets[] = {
      Packet::command("version"),
      Packet::command("load-conn", m),
      Packet::response(m),
      Packet::of_type(PacketType::cmd_unknown),
      Packet::register_event("ike-updown"),
      Packet::unregister_event("ike-updown"),
      Packet::of_type(PacketType::event_confirm),
      Packet::of_type(PacketType::event_unknown),
      Packet::event("log", m),
  };
  for (const Packet& p : packets) {
    Result<std::string> frame = encode_frame(p);
    ASSERT_TRUE(frame) << packet_type_name(p.type);
    ASSERT_GE(frame->size(), 5u);
    EXPECT_EQ(frame->size() - 4,
              static_cast<std::size_t>(static_cast<uint8_t>((*frame)[3]) |
                                       (static_cast<uint8_t>((*frame)[2]) << 8)));
    Result<Packet> decoded = decode_packet(std::string_view(*frame).substr(4));
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(*decoded, p);
  }
}

TEST(ViciPacket, ExactBytes) {
  Result<std::string> frame = encode_frame(Packet::command("version"));
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, bytes({0, 0, 0, 9, 0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n'}));
  frame = encode_frame(Packet::of_type(PacketType::event_confirm));
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, bytes({0, 0, 0, 1, 5}));
}

TEST(ViciPacket, EncodeRejectsInvalid) {
  EXPECT_FALSE(encode_packet(Packet::command("")));
  EXPECT_FALSE(encode_packet(Packet::command(std::string(256, 'c'))));
  Packet named_response = Packet::response();
  named_response.name = "x";
  EXPECT_FALSE(encode_packet(named_response));
  Packet confirm_with_message = Packet::of_type(PacketType::event_confirm);
  confirm_with_message.message.set("k", "v");
  EXPECT_FALSE(encode_packet(confirm_with_message));
  EXPECT_FALSE(encode_packet(Packet::of_type(static_cast<PacketType>(8))));
}

TEST(ViciPacket, DecodeRejectsMalformed) {
  const Malformed cases[] = {
      {"empty", ""},
      {"unknown type", bytes({8})},
      {"unknown type 255", bytes({255})},
      {"missing name", bytes({0})},
      {"empty name", bytes({0, 0})},
      {"truncated name", bytes({7, 5, 'a', 'b'})},
      {"confirm with trailing bytes", bytes({5, 0})},
      {"register with trailing bytes", bytes({3, 1, 'e', 9})},
      {"bad message", bytes({1, 2})},
  };
  for (const Malformed& c : cases) EXPECT_FALSE(decode_packet(c.input)) << c.what;
}

TEST(ViciFraming, LengthHeader) {
  EXPECT_EQ(*decode_length_header({0, 8, 0, 0}), kMaxSegmentSize);
  EXPECT_FALSE(decode_length_header({0, 8, 0, 1}));
  EXPECT_FALSE(decode_length_header({0xff, 0xff, 0xff, 0xff}));
  EXPECT_FALSE(decode_length_header({0, 0, 0, 0}));
  EXPECT_EQ(encode_length_header(0x01020304), (std::array<uint8_t, 4>{1, 2, 3, 4}));
}

TEST(ViciFraming, ReaderHandlesArbitraryChunks) {
  Message m;
  m.set("k", "v").section("s").set_list("l", {"1", "2"});
  std::string stream = *encode_frame(Packet::event("log", m)) +
                       *encode_frame(Packet::of_type(PacketType::event_confirm)) +
                       *encode_frame(Packet::response(m));
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    FrameReader reader;
    std::vector<Packet> packets;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
      reader.feed(std::string_view(stream).substr(pos, chunk));
      for (;;) {
        Result<std::optional<Packet>> next = reader.next();
        ASSERT_TRUE(next) << next.error();
        if (!next->has_value()) break;
        packets.push_back(std::move(**next));
      }
    }
    ASSERT_EQ(packets.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(packets[0].name, "log");
    EXPECT_EQ(packets[0].message, m);
    EXPECT_EQ(packets[1].type, PacketType::event_confirm);
    EXPECT_EQ(packets[2].message, m);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(ViciFraming, ReaderRejectsOversizeHeaderBeforeBuffering) {
  FrameReader reader;
  reader.feed(bytes({0x7f, 0, 0, 0}));
  EXPECT_FALSE(reader.next());
}

}  // namespace
}  // namespace ergw::vici
