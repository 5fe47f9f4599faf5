// A keyed HMAC context for ESP integrity (RFC 2404, RFC 4868): the key is set
// once, each packet only re-initialises the context and produces the
// truncated ICV. One instance per thread slot; not thread-safe itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "xfrm/esp/algorithm.h"

struct evp_mac_ctx_st;

namespace ergw::xfrm::esp {

class HmacSigner {
 public:
  HmacSigner() = default;
  ~HmacSigner();
  HmacSigner(const HmacSigner&) = delete;
  HmacSigner& operator=(const HmacSigner&) = delete;

  // False if OpenSSL refuses (the error is not about the key's content).
  bool init(Integrity integrity, std::span<const uint8_t> key);
  // ICV octets: 12 (SHA1-96), 16 (SHA-256-128), 24 (SHA-384-192).
  size_t icv_bytes() const { return icv_bytes_; }
  // HMAC over the concatenation of `parts`, truncated to icv_bytes() (RFC 4868 2.3).
  bool sign(std::initializer_list<std::span<const uint8_t>> parts, uint8_t* icv_out);

 private:
  evp_mac_ctx_st* ctx_ = nullptr;
  size_t icv_bytes_ = 0;
};

}  // namespace ergw::xfrm::esp
