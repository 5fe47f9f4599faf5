// libFuzzer target for the vici decoder: the input is a byte stream as read from
// charon's socket. Every packet that decodes must re-encode and decode to the same
// packet; nothing may crash, leak or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vici/message_codec.h"
#include "vici/packet.h"
#include "vici/sa_info.h"

namespace {

void check_round_trip(const ergw::vici::Packet& packet) {
  ergw::Result<std::string> encoded = ergw::vici::encode_packet(packet);
  if (!encoded) std::abort();  // what decoded within limits must encode
  ergw::Result<ergw::vici::Packet> again = ergw::vici::decode_packet(*encoded);
  if (!again || !(*again == packet)) std::abort();
  (void)ergw::vici::to_debug_string(packet.message);
  // The typed views must reject, not crash on, whatever shape arrives.
  (void)ergw::vici::parse_list_sa_event(packet.message);
  (void)ergw::vici::parse_updown_event(packet.message);
  (void)ergw::vici::parse_ike_rekey_event(packet.message);
  (void)ergw::vici::parse_child_rekey_event(packet.message);
  (void)ergw::vici::parse_list_conn_event(packet.message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. The input as one packet body.
  if (ergw::Result<ergw::vici::Packet> packet = ergw::vici::decode_packet(input)) {
    check_round_trip(*packet);
  }
  // 2. The input as a message.
  (void)ergw::vici::decode_message(input);
  // 3. The input as a framed stream.
  ergw::vici::FrameReader reader;
  reader.feed(input);
  for (;;) {
    ergw::Result<std::optional<ergw::vici::Packet>> next = reader.next();
    if (!next || !next->has_value()) break;
    check_round_trip(**next);
  }
  return 0;
}
