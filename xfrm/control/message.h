// The wire format of the ergw-ipsec control protocol (protocol.h,
// docs/ipsec-protocol.md): a header and type-length-value attributes.
// MessageReader validates a whole message before anything reads it;
// MessageWriter builds one. Neither allocates per attribute nor keeps key
// material beyond the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_prefix.h"
#include "common/result.h"
#include "xfrm/control/protocol.h"

namespace ergw::xfrm::control {

struct MessageHeader {
  uint32_t length = 0;
  uint16_t version = ERGW_IPSEC_PROTOCOL_VERSION;
  uint16_t type = 0;
  uint32_t sequence = 0;
  int32_t status = ERGW_IPSEC_OK;
};

// One traffic selector or prefix: protocol 0 = any, ports inclusive.
struct TrafficSelector {
  uint8_t protocol = 0;
  IpPrefix prefix{IpAddress(), 0};
  uint16_t from_port = 0;
  uint16_t to_port = 65535;

  bool any_protocol_and_port() const { return protocol == 0 && from_port == 0 && to_port == 65535; }
  bool operator==(const TrafficSelector&) const = default;
};

// The name of an attribute type ("spi", "enc_key"), for errors.
std::string_view attribute_name(uint16_t type);
std::string_view message_name(uint16_t type);

// Reads the u32 length of a message from its first 4 octets (framing on a
// stream socket). The header must then be validated by MessageReader.
uint32_t peek_message_length(std::span<const uint8_t, 4> first);

class MessageReader {
 public:
  // Validates header and attribute framing; the attributes' values are
  // checked by the typed getters. The reader views `bytes`: they must outlive it.
  static Result<MessageReader> parse(std::span<const uint8_t> bytes);

  const MessageHeader& header() const { return header_; }
  bool has(uint16_t type) const { return find(type).has_value(); }

  // Each getter fails with an error naming the attribute when it is present
  // with the wrong length or value; optional ones return nullopt when absent.
  Result<std::optional<uint8_t>> u8(uint16_t type) const;
  Result<std::optional<uint16_t>> u16(uint16_t type) const;
  Result<std::optional<uint32_t>> u32(uint16_t type) const;
  Result<std::optional<uint64_t>> u64(uint16_t type) const;
  Result<std::optional<bool>> flag(uint16_t type) const;
  Result<std::optional<IpAddress>> address(uint16_t type) const;
  Result<std::optional<std::span<const uint8_t>>> bytes(uint16_t type) const;
  Result<std::optional<std::string_view>> text(uint16_t type) const;
  Result<std::optional<std::array<uint64_t, 3>>> u64x3(uint16_t type) const;
  Result<std::optional<std::array<uint32_t, 2>>> u32x2(uint16_t type) const;
  // Every attribute of this (repeatable) type, in order.
  Result<std::vector<TrafficSelector>> selectors(uint16_t type) const;

 private:
  struct Attribute {
    uint16_t type;
    std::span<const uint8_t> value;
  };
  std::optional<Attribute> find(uint16_t type) const;
  Result<std::span<const uint8_t>> fixed(const Attribute& attribute, size_t length) const;

  MessageHeader header_;
  std::vector<Attribute> attributes_;
};

class MessageWriter {
 public:
  MessageWriter(uint16_t type, uint32_t sequence, int32_t status = ERGW_IPSEC_OK);

  MessageWriter& u8(uint16_t type, uint8_t value);
  MessageWriter& u16(uint16_t type, uint16_t value);
  MessageWriter& u32(uint16_t type, uint32_t value);
  MessageWriter& u64(uint16_t type, uint64_t value);
  MessageWriter& u64x3(uint16_t type, const std::array<uint64_t, 3>& value);
  MessageWriter& u32x2(uint16_t type, const std::array<uint32_t, 2>& value);
  MessageWriter& address(uint16_t type, const IpAddress& value);
  MessageWriter& bytes(uint16_t type, std::span<const uint8_t> value);
  MessageWriter& text(uint16_t type, std::string_view value);
  MessageWriter& selector(uint16_t type, const TrafficSelector& value);

  // The finished message (length filled in). Values longer than the protocol
  // allows are cut at ERGW_IPSEC_MAX_MESSAGE by text(); others are the
  // caller's responsibility.
  std::vector<uint8_t> finish();

 private:
  void attribute(uint16_t type, const uint8_t* value, size_t length);
  std::vector<uint8_t> buffer_;
};

}  // namespace ergw::xfrm::control
