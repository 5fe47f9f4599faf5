#include "vici/packet.h"

#include "vici/message_codec.h"

namespace ergw::vici {

Packet Packet::command(std::string_view name, Message message) {
  return Packet{PacketType::cmd_request, std::string(name), std::move(message)};
}
Packet Packet::response(Message message) {
  return Packet{PacketType::cmd_response, {}, std::move(message)};
}
Packet Packet::event(std::string_view name, Message message) {
  return Packet{PacketType::event, std::string(name), std::move(message)};
}
Packet Packet::register_event(std::string_view name) {
  return Packet{PacketType::event_register, std::string(name), {}};
}
Packet Packet::unregister_event(std::string_view name) {
  return Packet{PacketType::event_unregister, std::string(name), {}};
}
Packet Packet::of_type(PacketType type) { return Packet{type, {}, {}}; }

Result<std::string> encode_packet(const Packet& packet) {
  const uint8_t type = static_cast<uint8_t>(packet.type);
  if (type > kLastPacketType) return Error{"vici encode: invalid packet type", ErrorCode::invalid_argument};
  std::string out;
  out.push_back(static_cast<char>(type));
  if (packet_is_named(packet.type)) {
    if (packet.name.empty() || packet.name.size() > kMaxNameLength) {
      return Error{"vici encode: packet name must be 1..255 bytes", ErrorCode::invalid_argument};
    }
    out.push_back(static_cast<char>(packet.name.size()));
    out += packet.name;
  } else if (!packet.name.empty()) {
    return Error{"vici encode: " + std::string(packet_type_name(packet.type)) +
                 " carries no name", ErrorCode::invalid_argument};
  }
  if (packet_has_message(packet.type)) {
    if (Status s = encode_message_to(packet.message, out); !s) return s.failure();
  } else if (!packet.message.empty()) {
    return Error{"vici encode: " + std::string(packet_type_name(packet.type)) +
                 " carries no message", ErrorCode::invalid_argument};
  }
  if (out.size() > kMaxSegmentSize) return Error{"vici encode: packet exceeds 512 KiB", ErrorCode::invalid_argument};
  return out;
}

Result<std::string> encode_frame(const Packet& packet) {
  Result<std::string> body = encode_packet(packet);
  if (!body) return body;
  const auto header = encode_length_header(body->size());
  std::string out(header.begin(), header.end());
  out += *body;
  return out;
}

Result<Packet> decode_packet(std::string_view segment) {
  if (segment.empty()) return Error{"vici decode: empty packet", ErrorCode::malformed};
  if (segment.size() > kMaxSegmentSize) return Error{"vici decode: packet exceeds 512 KiB", ErrorCode::malformed};
  const uint8_t type = static_cast<uint8_t>(segment[0]);
  if (type > kLastPacketType) {
    return Error{"vici decode: unknown packet type " + std::to_string(type), ErrorCode::malformed};
  }
  Packet packet;
  packet.type = static_cast<PacketType>(type);
  std::string_view rest = segment.substr(1);
  if (packet_is_named(packet.type)) {
    if (rest.empty()) return Error{"vici decode: truncated packet name", ErrorCode::malformed};
    const std::size_t length = static_cast<uint8_t>(rest[0]);
    if (length == 0) return Error{"vici decode: empty packet name", ErrorCode::malformed};
    if (rest.size() - 1 < length) return Error{"vici decode: truncated packet name", ErrorCode::malformed};
    packet.name = std::string(rest.substr(1, length));
    rest = rest.substr(1 + length);
  }
  if (packet_has_message(packet.type)) {
    Result<Message> message = decode_message(rest);
    if (!message) return message.failure();
    packet.message = std::move(*message);
  } else if (!rest.empty()) {
    return Error{"vici decode: " + std::string(packet_type_name(packet.type)) +
                 " with trailing bytes", ErrorCode::malformed};
  }
  return packet;
}

Result<std::size_t> decode_length_header(const std::array<uint8_t, kLengthHeaderSize>& header) {
  const std::size_t length = (static_cast<std::size_t>(header[0]) << 24) |
                             (static_cast<std::size_t>(header[1]) << 16) |
                             (static_cast<std::size_t>(header[2]) << 8) | header[3];
  if (length == 0) return Error{"vici framing: empty segment", ErrorCode::malformed};
  if (length > kMaxSegmentSize) {
    return Error{"vici framing: segment of " + std::to_string(length) +
                 " bytes exceeds 512 KiB", ErrorCode::malformed};
  }
  return length;
}

std::array<uint8_t, kLengthHeaderSize> encode_length_header(std::size_t length) {
  return {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
}

Result<std::optional<Packet>> FrameReader::next() {
  if (buffered() < kLengthHeaderSize) return std::optional<Packet>();
  std::array<uint8_t, kLengthHeaderSize> header{};
  for (std::size_t i = 0; i < kLengthHeaderSize; ++i) {
    header[i] = static_cast<uint8_t>(buffer_[consumed_ + i]);
  }
  Result<std::size_t> length = decode_length_header(header);
  if (!length) return length.failure();
  if (buffered() - kLengthHeaderSize < *length) return std::optional<Packet>();
  const std::string_view segment =
      std::string_view(buffer_).substr(consumed_ + kLengthHeaderSize, *length);
  Result<Packet> packet = decode_packet(segment);
  consumed_ += kLengthHeaderSize + *length;
  // Drop consumed bytes once they dominate, so the buffer stays bounded.
  if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  if (!packet) return packet.failure();
  return std::optional<Packet>(std::move(*packet));
}

}  // namespace ergw::vici
