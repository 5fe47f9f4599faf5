#include "xfrm/esp/hmac_signer.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

namespace ergw::xfrm::esp {
namespace {

// EVP_MAC_fetch once per process; the algorithm object is shared read-only.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

const char* digest_name(Integrity integrity) {
  switch (integrity) {
    case Integrity::hmac_sha1_96: return "SHA1";
    case Integrity::hmac_sha384_192: return "SHA384";
    default: return "SHA256";
  }
}

}  // namespace

HmacSigner::~HmacSigner() { EVP_MAC_CTX_free(ctx_); }

bool HmacSigner::init(Integrity integrity, std::span<const uint8_t> key) {
  if (integrity == Integrity::none || hmac_algorithm() == nullptr) return false;
  EVP_MAC_CTX_free(ctx_);
  ctx_ = EVP_MAC_CTX_new(hmac_algorithm());
  if (ctx_ == nullptr) return false;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_name(integrity)), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx_, key.data(), key.size(), params) != 1) return false;
  Algorithm algorithm{Encryption::aes_cbc, 128, integrity};
  icv_bytes_ = algorithm.icv_bytes();
  return true;
}

bool HmacSigner::sign(std::initializer_list<std::span<const uint8_t>> parts, uint8_t* icv_out) {
  if (ctx_ == nullptr) return false;
  // A NULL key re-initialises with the key given to init() (no re-keying cost).
  if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) return false;
  for (const auto& part : parts) {
    if (EVP_MAC_update(ctx_, part.data(), part.size()) != 1) return false;
  }
  uint8_t full[EVP_MAX_MD_SIZE];
  size_t full_len = 0;
  if (EVP_MAC_final(ctx_, full, &full_len, sizeof full) != 1 || full_len < icv_bytes_) return false;
  std::memcpy(icv_out, full, icv_bytes_);
  return true;
}

}  // namespace ergw::xfrm::esp
