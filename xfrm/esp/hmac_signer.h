// A keyed HMAC (RFC 2104) for ESP integrity (RFC 2404, RFC 4868): the inner
// and outer hash states after the padded key are computed once; each packet
// copies them (a plain struct copy) and hashes only its own bytes. No
// allocation per packet, unlike EVP_MAC in OpenSSL 3.0, whose re-init
// duplicates provider contexts on the heap. One instance per thread slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "xfrm/esp/algorithm.h"

namespace ergw::xfrm::esp {

class HmacSigner {
 public:
  HmacSigner();
  ~HmacSigner();
  HmacSigner(const HmacSigner&) = delete;
  HmacSigner& operator=(const HmacSigner&) = delete;

  bool init(Integrity integrity, std::span<const uint8_t> key);
  // ICV octets: 12 (SHA1-96), 16 (SHA-256-128), 24 (SHA-384-192).
  size_t icv_bytes() const { return icv_bytes_; }
  // HMAC over the concatenation of `parts`, truncated to icv_bytes() (RFC 4868 2.3).
  bool sign(std::initializer_list<std::span<const uint8_t>> parts, uint8_t* icv_out) const;

 private:
  struct States;  // the hash library's context structs, kept out of this header
  Integrity integrity_ = Integrity::none;
  size_t icv_bytes_ = 0;
  States* states_;
};

}  // namespace ergw::xfrm::esp
