// Constants of the vici wire protocol (strongSwan src/libcharon/plugins/vici/README.md,
// identical framing in 5.9.8 and later). See docs/vici.md for the layering:
//   segment = u32 big-endian length + data
//   data    = packet type (u8) [+ u8 name length + name] [+ message]
//   message = sequence of elements (sections, lists, key/values)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ergw::vici {

// "The maximum segment length is currently limited to 512KB of data"; the length
// field counts the data only, not the 4-byte header itself.
inline constexpr std::size_t kMaxSegmentSize = 512 * 1024;
inline constexpr std::size_t kLengthHeaderSize = 4;
// Names carry an 8-bit length, values a 16-bit length.
inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxValueLength = 65535;
// The protocol allows any depth; we stop at 64 so that decoding, encoding and
// destroying a hostile message cannot exhaust the stack. charon's own replies nest
// at most about 6 deep (list-sa: ike > child-sas > child > ...).
inline constexpr std::size_t kMaxSectionDepth = 64;

enum class PacketType : uint8_t {
  cmd_request = 0,       // named (command), carries a message
  cmd_response = 1,      // carries a message
  cmd_unknown = 2,       // the command is unknown to charon
  event_register = 3,    // named (event)
  event_unregister = 4,  // named (event)
  event_confirm = 5,     // (un)registration succeeded
  event_unknown = 6,     // the event is unknown to charon
  event = 7,             // named (event), carries a message
};
inline constexpr uint8_t kLastPacketType = 7;

bool packet_is_named(PacketType type);
bool packet_has_message(PacketType type);
std::string_view packet_type_name(PacketType type);

enum class ElementType : uint8_t {
  section_start = 1,  // u8 name length, name
  section_end = 2,
  key_value = 3,      // u8 name length, name, u16 value length, value
  list_start = 4,     // u8 name length, name
  list_item = 5,      // u16 value length, value
  list_end = 6,
};

}  // namespace ergw::vici
