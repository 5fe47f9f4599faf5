// Result<T>: a value or an Error, for operations whose failure is an ordinary
// outcome (bad input, a refused request, a daemon that is not there), not a bug.
//
// An Error carries a code beside its message. The message is for people; the
// code is for the program: whoever must decide what to do next (retry on the
// next pass, record a refusal, give up) branches on the code, never on the
// wording of the message. Error{"message"} still compiles and means "no code"
// (ErrorCode::unspecified): nobody may branch on that.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ergw {

// Every code once, with the name it prints as (status, logs, tests).
#define ERGW_ERROR_CODES(X)                                                                       \
  X(unspecified)       /* no code given: the message is all there is */                           \
  X(invalid_argument)  /* the input is wrong: fix it; retrying the same input fails again */      \
  X(not_found)         /* what was asked for does not exist */                                     \
  X(already_exists)    /* what was to be created is there already */                               \
  X(refused)           /* the other side understood the request and said no */                     \
  X(unavailable)       /* the other side cannot be reached now (not running, connection lost) */   \
  X(timed_out)         /* the other side did not answer in time */                                 \
  X(malformed)         /* the other side's answer makes no sense (protocol or parse error) */      \
  X(io)                /* a local system call failed (file, socket, netlink) */

enum class ErrorCode {
#define ERGW_ERROR_CODE_ENUM(name) name,
  ERGW_ERROR_CODES(ERGW_ERROR_CODE_ENUM)
#undef ERGW_ERROR_CODE_ENUM
};

// "invalid_argument", "refused", ...
constexpr std::string_view error_code_name(ErrorCode code) {
  switch (code) {
#define ERGW_ERROR_CODE_NAME(name) \
  case ErrorCode::name:            \
    return #name;
    ERGW_ERROR_CODES(ERGW_ERROR_CODE_NAME)
#undef ERGW_ERROR_CODE_NAME
  }
  return "unspecified";
}

// Worth trying again later without changing anything: the other side was
// away or slow, not refusing.
constexpr bool is_transient(ErrorCode code) {
  return code == ErrorCode::unavailable || code == ErrorCode::timed_out;
}

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::unspecified;

  // The same error with more context in front: "loading x: " + message.
  Error prefixed(std::string_view context) const { return Error{std::string(context) + message, code}; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}    // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The message (for people).
  const std::string& error() const { return failure().message; }
  // The code (for the program).
  ErrorCode error_code() const { return failure().code; }
  // Both, to pass the error on unchanged.
  const Error& failure() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  static Status success() { return {}; }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_.message; }
  ErrorCode error_code() const { return error_.code; }
  const Error& failure() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace ergw
