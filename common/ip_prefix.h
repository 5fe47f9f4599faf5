// IPv4/IPv6 addresses and CIDR prefixes, parsed strictly (no "10.1" shorthand,
// no host bits set in a prefix unless the caller allows it).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ergw {

class IpAddress {
 public:
  enum class Family : uint8_t { v4, v6 };

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(uint32_t host_order);
  // 4 octets (IPv4) or 16 (IPv6) in network order; any other length: nullopt.
  static std::optional<IpAddress> from_bytes(const uint8_t* data, size_t length);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::v4; }
  int max_prefix_length() const { return is_v4() ? 32 : 128; }
  // Network-order bytes; only the first 4 are used for IPv4.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  uint32_t v4_host_order() const;
  std::string to_string() const;

  // Clears every bit after the first `length` bits.
  IpAddress masked(int length) const;
  bool bit(int index) const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::v4;
  std::array<uint8_t, 16> bytes_{};
};

class IpPrefix {
 public:
  // "a.b.c.d/n", "x::y/n"; a bare address is a host prefix (/32, /128).
  // Host bits set after the length are an error unless `allow_host_bits`.
  static std::optional<IpPrefix> parse(std::string_view text, bool allow_host_bits = false);
  IpPrefix(IpAddress network, int length);

  const IpAddress& network() const { return network_; }
  int length() const { return length_; }
  bool is_v4() const { return network_.is_v4(); }
  std::string to_string() const;

  bool contains(const IpAddress& address) const;
  bool contains(const IpPrefix& other) const;
  bool overlaps(const IpPrefix& other) const;

  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress network_;
  int length_ = 0;
};

}  // namespace ergw
