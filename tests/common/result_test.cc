// Result/Status carry an ErrorCode beside the message; Error{"text"} keeps
// compiling (code unspecified); time formatting.
#include "common/result.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace ergw {
namespace {

Result<int> refused() { return Error{"load-shared failed: no", ErrorCode::refused}; }
Result<int> plain() { return Error{"something"}; }

TEST(Result, ErrorCarriesItsCode) {
  auto r = refused();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "load-shared failed: no");
  EXPECT_EQ(r.error_code(), ErrorCode::refused);
  Status s = r.failure();
  EXPECT_EQ(s.error_code(), ErrorCode::refused);
  EXPECT_EQ(s.failure().prefixed("hub: ").message, "hub: load-shared failed: no");
  EXPECT_EQ(s.failure().prefixed("hub: ").code, ErrorCode::refused);
}

TEST(Result, SourceCompatibleErrorHasNoCode) {
  EXPECT_EQ(plain().error_code(), ErrorCode::unspecified);
  Status s = Error{"x"};
  EXPECT_EQ(s.error_code(), ErrorCode::unspecified);
  EXPECT_TRUE(Status::success());
  EXPECT_EQ(Status().error_code(), ErrorCode::unspecified);
}

TEST(Result, CodeNames) {
  EXPECT_EQ(error_code_name(ErrorCode::unavailable), "unavailable");
  EXPECT_EQ(error_code_name(ErrorCode::io), "io");
  EXPECT_TRUE(is_transient(ErrorCode::timed_out));
  EXPECT_TRUE(is_transient(ErrorCode::unavailable));
  EXPECT_FALSE(is_transient(ErrorCode::refused));
}

TEST(TimeFormat, Iso8601Utc) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1796040000));
  EXPECT_EQ(format_time(t), "2026-11-30T12:00:00Z");
  EXPECT_EQ(format_time(std::chrono::system_clock::time_point{}), "") << "never set";
  EXPECT_EQ(format_time(t, TimeFormat::time_of_day_local).size(), 8u);
}

}  // namespace
}  // namespace ergw
