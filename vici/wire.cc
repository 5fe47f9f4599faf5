#include "vici/wire.h"

namespace ergw::vici {

bool packet_is_named(PacketType type) {
  switch (type) {
    case PacketType::cmd_request:
    case PacketType::event_register:
    case PacketType::event_unregister:
    case PacketType::event:
      return true;
    default:
      return false;
  }
}

bool packet_has_message(PacketType type) {
  return type == PacketType::cmd_request || type == PacketType::cmd_response ||
         type == PacketType::event;
}

std::string_view packet_type_name(PacketType type) {
  switch (type) {
    case PacketType::cmd_request: return "CMD_REQUEST";
    case PacketType::cmd_response: return "CMD_RESPONSE";
    case PacketType::cmd_unknown: return "CMD_UNKNOWN";
    case PacketType::event_register: return "EVENT_REGISTER";
    case PacketType::event_unregister: return "EVENT_UNREGISTER";
    case PacketType::event_confirm: return "EVENT_CONFIRM";
    case PacketType::event_unknown: return "EVENT_UNKNOWN";
    case PacketType::event: return "EVENT";
  }
  return "invalid packet type";
}

}  // namespace ergw::vici
