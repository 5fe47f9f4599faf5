// The TCP MD5 password of a BGP session (RFC 2385). A secret: it has no
// printing operator and no to_string; only the BIRD config renderer reads it,
// and that file is written with mode 0600.
#pragma once

#include <string>
#include <utility>

namespace ergw::routing {

class Password {
 public:
  Password() = default;
  explicit Password(std::string value) : value_(std::move(value)) {}

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  // Named so every read of the secret is easy to find in review.
  const std::string& reveal_for_bird_config() const { return value_; }

  friend bool operator==(const Password&, const Password&) = default;

 private:
  std::string value_;
};

}  // namespace ergw::routing
