// system_error: errno becomes a code callers decide on, and the message keeps
// the system's own words.
#include "common/system_error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace ergw {
namespace {

TEST(SystemError, CodesForWhatCallersDecideOn) {
  EXPECT_EQ(error_code_for_errno(EEXIST), ErrorCode::already_exists);
  EXPECT_EQ(error_code_for_errno(ENOENT), ErrorCode::not_found);
  EXPECT_EQ(error_code_for_errno(ESRCH), ErrorCode::not_found);
  EXPECT_EQ(error_code_for_errno(ENODEV), ErrorCode::not_found);
  EXPECT_EQ(error_code_for_errno(EADDRNOTAVAIL), ErrorCode::not_found);
  EXPECT_EQ(error_code_for_errno(ETIMEDOUT), ErrorCode::timed_out);
  EXPECT_EQ(error_code_for_errno(EPERM), ErrorCode::io);
  EXPECT_EQ(error_code_for_errno(ENOSPC), ErrorCode::io);
}

TEST(SystemError, MessageSaysWhatWasDoneAndWhatTheSystemSaid) {
  const Error e = system_error("add rule lookup 220", EEXIST);
  EXPECT_EQ(e.message, std::string("add rule lookup 220: ") + std::strerror(EEXIST));
  EXPECT_EQ(e.code, ErrorCode::already_exists);
  EXPECT_EQ(error_code_name(e.code), "already_exists");
}

}  // namespace
}  // namespace ergw
