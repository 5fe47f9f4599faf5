// The vici packet layer and its transport framing (README "Transport protocol",
// "Packet layer"). A packet is a type byte, a name for the named types
// (CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT) and a message for the
// types that carry one (CMD_REQUEST, CMD_RESPONSE, EVENT). On the stream every
// packet is one segment: a 32-bit big-endian length, then the packet bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "vici/message.h"
#include "vici/wire.h"

namespace ergw::vici {

struct Packet {
  PacketType type = PacketType::cmd_response;
  std::string name;  // only for named types
  Message message;   // only for types that carry one

  static Packet command(std::string_view name, Message message = {});
  static Packet response(Message message = {});
  static Packet event(std::string_view name, Message message = {});
  static Packet register_event(std::string_view name);
  static Packet unregister_event(std::string_view name);
  static Packet of_type(PacketType type);  // the unnamed, message-less types

  bool operator==(const Packet&) const = default;
};

// The packet bytes without the length header. Errors: a name over 255 bytes, a name
// on an unnamed type, a message on a type without one, any message encoding error.
Result<std::string> encode_packet(const Packet& packet);
// The segment as sent on the stream: length header + packet bytes.
Result<std::string> encode_frame(const Packet& packet);

// Decodes one segment's data (without the length header). Strict: unknown type,
// missing or truncated name, trailing bytes after a message-less packet, and every
// message error are rejected.
Result<Packet> decode_packet(std::string_view segment);

// The data length announced by a header; 0 and anything over 512 KiB are errors
// (a segment holds at least the type byte).
Result<std::size_t> decode_length_header(const std::array<uint8_t, kLengthHeaderSize>& header);
std::array<uint8_t, kLengthHeaderSize> encode_length_header(std::size_t length);

// Splits a byte stream into packets, for callers that receive arbitrary chunks
// (tests, the fuzzer). Holds at most one incomplete segment plus what was fed.
class FrameReader {
 public:
  void feed(std::string_view bytes) { buffer_ += bytes; }
  // A decoded packet, nullopt if more bytes are needed, or an error after which
  // the stream is unusable (there is no way to resynchronise vici framing).
  Result<std::optional<Packet>> next();
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace ergw::vici
