#include "common/system_error.h"

#include <cerrno>
#include <cstring>

namespace ergw {

ErrorCode error_code_for_errno(int error_number) {
  switch (error_number) {
    case EEXIST:
      return ErrorCode::already_exists;
    case ENOENT:
    case ESRCH:
    case ENODEV:
    case EADDRNOTAVAIL:
      return ErrorCode::not_found;
    case ETIMEDOUT:
      return ErrorCode::timed_out;
    default:
      return ErrorCode::io;
  }
}

Error system_error(const std::string& what, int error_number) {
  return Error{what + ": " + std::strerror(error_number), error_code_for_errno(error_number)};
}

}  // namespace ergw
