#include "common/ip_prefix.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ergw {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress address;
  if (s.find(':') == std::string::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    address.family_ = Family::v4;
    std::memcpy(address.bytes_.data(), &v4, 4);
  } else {
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
    address.family_ = Family::v6;
    std::memcpy(address.bytes_.data(), &v6, 16);
  }
  return address;
}

IpAddress IpAddress::v4(uint32_t host_order) {
  IpAddress address;
  address.family_ = Family::v4;
  address.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  address.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  address.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  address.bytes_[3] = static_cast<uint8_t>(host_order);
  return address;
}

std::optional<IpAddress> IpAddress::from_bytes(const uint8_t* data, size_t length) {
  if (length != 4 && length != 16) return std::nullopt;
  IpAddress address;
  address.family_ = length == 4 ? Family::v4 : Family::v6;
  std::memcpy(address.bytes_.data(), data, length);
  return address;
}

uint32_t IpAddress::v4_host_order() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         uint32_t{bytes_[3]};
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof(buffer));
  return buffer;
}

bool IpAddress::bit(int index) const {
  return (bytes_[static_cast<size_t>(index / 8)] >> (7 - index % 8)) & 1;
}

IpAddress IpAddress::masked(int length) const {
  IpAddress result = *this;
  for (int i = length; i < max_prefix_length(); ++i) {
    result.bytes_[static_cast<size_t>(i / 8)] &= static_cast<uint8_t>(~(0x80u >> (i % 8)));
  }
  return result;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, bool allow_host_bits) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int length = address->max_prefix_length();
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    if (length < 0 || length > address->max_prefix_length()) return std::nullopt;
  }
  if (!allow_host_bits && address->masked(length) != *address) return std::nullopt;
  return IpPrefix(address->masked(length), length);
}

IpPrefix::IpPrefix(IpAddress network, int length) : network_(network.masked(length)), length_(length) {}

std::string IpPrefix::to_string() const { return network_.to_string() + "/" + std::to_string(length_); }

bool IpPrefix::contains(const IpAddress& address) const {
  return address.family() == network_.family() && address.masked(length_) == network_;
}

bool IpPrefix::contains(const IpPrefix& other) const {
  return other.length_ >= length_ && contains(other.network_);
}

bool IpPrefix::overlaps(const IpPrefix& other) const { return contains(other) || other.contains(*this); }

}  // namespace ergw
