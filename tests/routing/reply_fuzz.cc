// libFuzzer target: the control-socket reply framing and every parser fed by
// it (show protocols, show status, show route) on arbitrary bytes, and the
// same bytes read as BIRD's log (a peer chooses part of what BIRD logs).
// Seeds: the real BIRD captures in tests/routing/data/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "routing/bird_log.h"
#include "routing/protocol_status.h"
#include "routing/reply.h"
#include "routing/route.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ergw::routing;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Split at an input-chosen point, so reads cut anywhere are covered.
  size_t cut = size ? data[0] % (size + 1) : 0;
  ReplyParser parser;
  if (parser.feed(bytes.substr(0, cut)).ok()) (void)parser.feed(bytes.substr(cut));
  while (auto reply = parser.next()) {
    (void)parse_show_protocols(*reply);
    (void)parse_show_status(*reply);
    (void)parse_show_route(*reply);
    (void)reply->text();
  }
  (void)logged_session_error(bytes, "ergw_azure0", "BGP Error: Bad peer AS");
  (void)logged_session_error(bytes, "ergw_azure0", "Received: Bad peer AS");
  return 0;
}
