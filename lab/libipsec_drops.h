// What strongSwan's userspace ESP (kernel-libipsec) dropped for want of an
// SA, read back from a charon log written with the "esp" subsystem at level 2.
//
// Why a test needs it: when a new CHILD SA is set up, the responder installs
// both of its SAs before it sends its response and sends under the new
// outbound SA at once, while the initiator can install its inbound SA only
// once that response has arrived. ESP that crosses in those few milliseconds
// carries an SPI that the initiator's charon has allocated (GETSPI) but not
// installed, and libipsec, like the Linux kernel, drops it. The fast path
// holds such packets (xfrm/fastpath/larval_hold.h); libipsec has nothing of
// the kind, so a loss on libipsec during a change is accounted for only if
// the log shows that very drop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ergw::lab {

struct LibipsecDrops {
  // Dropped ESP whose SPI charon had allocated and installed afterwards: the
  // packet came before its SA (see above).
  int before_its_sa = 0;
  // Dropped ESP for any other SPI (never allocated here, or long gone), in
  // the order seen, as eight hex digits.
  std::vector<std::string> other_spis;
};

// Reads libipsec's lines in a charon filelog: "allocated SPI X", "adding SAD
// entry with SPI X", and each "parsed ESP header with SPI X" followed, on the
// same thread, by "inbound ESP packet does not belong to an installed SA".
LibipsecDrops libipsec_drops(std::string_view charon_log);

}  // namespace ergw::lab
