// Field<T>: the result of reading one key of a vici message. The error says which
// way the lookup failed, so callers can treat "absent" differently from "present
// but wrong". Error messages name the key, never the value: values may be secrets.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "common/result.h"

namespace ergw::vici {

enum class FieldError {
  missing,     // the key is not in the section
  wrong_kind,  // present, but e.g. a list where a string was asked for
  malformed,   // present, but not a valid number/boolean
};

template <typename T>
class [[nodiscard]] Field {
 public:
  Field(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design

  static Field failure(FieldError kind, std::string message) {
    return Field(Failure{kind, std::move(message)});
  }

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(state_); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

  FieldError error() const { return std::get<1>(state_).kind; }
  const std::string& message() const { return std::get<1>(state_).message; }
  Error to_error() const { return Error{message()}; }

  // Re-types a failure (e.g. Field<const Section*> into Field<IkeSa>).
  template <typename U>
  Field<U> forward_failure() const {
    return Field<U>::failure(error(), message());
  }

 private:
  struct Failure {
    FieldError kind;
    std::string message;
  };
  explicit Field(Failure failure) : state_(std::move(failure)) {}

  std::variant<T, Failure> state_;
};

}  // namespace ergw::vici
