// Secret: a PSK, a TCP MD5 password or any other value that must never be
// shown. It has no operator<<, no implicit conversion and no formatting
// support, so it cannot end up in a log line, an error message or a status
// reply by accident; the one way out is the explicit reveal(), which is easy
// to find in review.
//
// It wipes the memory it held when it is destroyed, overwritten or moved from
// (the whole buffer, not only the characters in use), so a core dump or a
// later allocation does not carry the value. Best effort: copies made outside
// (a string the caller kept, a kernel buffer) are not seen.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ergw {

// Overwrites every byte of `bytes`' buffer (its whole capacity) with zeros in
// a way the compiler may not elide, then empties it.
void wipe(std::string& bytes);

class Secret {
 public:
  Secret() = default;
  // Takes the value; the parameter's buffer is wiped once moved from.
  explicit Secret(std::string value);
  ~Secret();
  Secret(const Secret& other) = default;
  Secret& operator=(const Secret& other);
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  // For the few places that must hand the value on: vici load-shared, a 0600
  // file. Grep for reveal() to audit them.
  const std::string& reveal() const { return value_; }
  bool operator==(const Secret& other) const;

  static constexpr const char* kRedacted = "<redacted>";

 private:
  std::string value_;
};

}  // namespace ergw
