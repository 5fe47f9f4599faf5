// Secret: a PSK or password. It has no operator<<, no implicit conversion and
// no formatting support, so it cannot end up in a log line, an error message
// or a status reply by accident; the one way out is the explicit reveal().
#pragma once

#include <string>
#include <utility>

namespace ergw::policy {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  ~Secret();
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(Secret&&) noexcept = default;

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  // For the few places that must hand the value on: vici load-shared, a 0600
  // file. Grep for reveal() to audit them.
  const std::string& reveal() const { return value_; }
  bool operator==(const Secret& other) const { return value_ == other.value_; }

  static constexpr const char* kRedacted = "<redacted>";

 private:
  std::string value_;
};

}  // namespace ergw::policy
