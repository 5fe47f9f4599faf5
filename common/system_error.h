// A failed system call as an Error: the message says what was being done and
// the system's own words for errno; the code says what a caller may decide on
// (that what was to be created exists already, that what was to be removed is
// not there), so nobody has to read the message to tell.
#pragma once

#include <string>

#include "common/result.h"

namespace ergw {

// EEXIST: already_exists; ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL: not_found;
// ETIMEDOUT: timed_out; anything else: io.
ErrorCode error_code_for_errno(int error_number);

// "<what>: <strerror(error_number)>" with error_code_for_errno's code.
Error system_error(const std::string& what, int error_number);

}  // namespace ergw
