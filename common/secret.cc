#include "common/secret.h"

#include <string.h>  // explicit_bzero (glibc)

namespace ergw {

void wipe(std::string& bytes) {
  // resize() to the capacity reaches the bytes past size() without writing
  // through data() beyond the string (which the standard does not allow).
  bytes.resize(bytes.capacity());
  explicit_bzero(bytes.data(), bytes.size());
  bytes.clear();
}

Secret::Secret(std::string value) : value_(std::move(value)) { wipe(value); }

Secret::~Secret() { wipe(value_); }

Secret& Secret::operator=(const Secret& other) {
  if (this == &other) return *this;
  wipe(value_);
  value_ = other.value_;
  return *this;
}

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { wipe(other.value_); }

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this == &other) return *this;
  wipe(value_);
  value_ = std::move(other.value_);
  wipe(other.value_);
  return *this;
}

bool Secret::operator==(const Secret& other) const {
  // Compare every byte whatever the first difference, so the time taken does
  // not tell how much of a guess was right.
  if (value_.size() != other.value_.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < value_.size(); ++i) {
    difference |= static_cast<unsigned char>(value_[i] ^ other.value_[i]);
  }
  return difference == 0;
}

}  // namespace ergw
