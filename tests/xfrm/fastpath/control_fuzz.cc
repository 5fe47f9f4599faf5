// Fuzzes the fast path's side of the ergw-ipsec control protocol: any bytes
// from the control socket go through the handler into a live IpsecState.
// Every message must get a well-formed reply and nothing may crash or leak.
// The first octet picks how the input is used: one raw message, or a
// sequence of messages framed by their own length fields (to reach state
// built by earlier requests: an ADD_SA, then a DEL_SA of it, ...).
#include <cstddef>
#include <cstdint>
#include <span>

#include "xfrm/control/message.h"
#include "xfrm/fastpath/control_handler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ergw::xfrm;
  fastpath::IpsecState state({64, ""});
  fastpath::ControlHandler handler(
      state, [](uint8_t, uint16_t) -> ergw::Result<std::string> { return std::string("ok"); },
      [] { return std::string("released"); }, [](const std::string&) {});
  fastpath::ControlSession session;
  std::span<const uint8_t> rest(data, size);
  while (!rest.empty()) {
    size_t take = rest.size();
    if (rest.size() >= 4) {
      const uint32_t length = control::peek_message_length(rest.first<4>());
      if (length >= 16 && length <= rest.size()) take = length;
    }
    const std::vector<uint8_t> reply = handler.handle(rest.first(take), session);
    auto parsed = control::MessageReader::parse(reply);
    if (!parsed.ok()) __builtin_trap();  // every reply must parse
    rest = rest.subspan(take);
  }
  std::vector<fastpath::ExpireEvent> e;
  std::vector<fastpath::MappingEvent> m;
  std::vector<uint32_t> c;
  state.tick(fastpath::IpsecState::Clock::now(), e, m, c);
  (void)state.status_json();
  return 0;
}
