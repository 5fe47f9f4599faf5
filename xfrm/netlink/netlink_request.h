// One rtnetlink request and its acknowledgement, over a libmnl socket opened
// for the call. Used for the few, rare changes ergwd makes (routes, xfrm
// interfaces); nothing here is on a packet path.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <libmnl/libmnl.h>

#include "common/result.h"

namespace ergw::xfrm {

// Builds a request in `buffer` with `build(header)` (the header has type and
// flags set; the builder adds the family header and attributes), sends it with
// NLM_F_ACK and waits for the kernel's answer. The error names `what` and the
// kernel's errno text; its code is error_code_for_errno's (common/system_error.h).
Status netlink_request(uint16_t type, uint16_t flags, const std::string& what,
                       const std::function<void(nlmsghdr*)>& build);

}  // namespace ergw::xfrm
