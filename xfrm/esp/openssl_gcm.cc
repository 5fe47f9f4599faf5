// AES-GCM-ESP (RFC 4106) through OpenSSL EVP. Each thread slot keeps its own
// EVP_CIPHER_CTX with the key already expanded, so a packet only sets the
// nonce (EVP_CipherInit_ex with NULL cipher and key).
//
// The tag is read and set with EVP_CIPHER_CTX_get_params/set_params, the
// provider call that EVP_CIPHER_CTX_ctrl(EVP_CTRL_GCM_GET_TAG/SET_TAG) is a
// translation layer over in OpenSSL 3: callgrind counted about 120
// instructions per packet for that layer (docs/esp-engine.md "Numbers").
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

#include "xfrm/esp/gcm_nonce.h"
#include "xfrm/esp/openssl_transforms.h"
#include "xfrm/esp/slot_cache.h"

namespace ergw::xfrm::esp {
namespace {

const EVP_CIPHER* gcm_cipher(size_t key_bytes) {
  switch (key_bytes) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    default: return EVP_aes_256_gcm();
  }
}

class OpensslGcm final : public Transform {
 public:
  OpensslGcm(const SaConfig& config, uint64_t iv_seed)
      : Transform(kGcmIvBytes, kGcmIcvBytes, 4),
        encrypt_(config.direction == Direction::outbound),
        esn_(config.esn),
        salt_(config.gcm_salt),
        iv_seed_(iv_seed),
        key_len_(config.encryption_key.size()) {
    std::memcpy(key_, config.encryption_key.data(), key_len_);
  }
  ~OpensslGcm() override { OPENSSL_cleanse(key_, sizeof key_); }

  bool seal(size_t slot, uint8_t* esp, size_t plain_bytes, uint64_t seq) override {
    EVP_CIPHER_CTX* ctx = context(slot);
    if (ctx == nullptr) return false;
    uint8_t* iv = esp + 8;
    // RFC 4106 3.1: unique per key. The sequence number is unique per SA; the
    // per-SA seed keeps a restarted manually keyed SA from repeating nonces.
    store_be64(iv, seq ^ iv_seed_);
    const auto nonce = gcm_nonce(salt_, iv);
    const GcmAad aad = gcm_aad(esp, seq, esn_);
    uint8_t* data = esp + header_bytes();
    int len = 0;
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), 1) != 1 ||
        EVP_CipherUpdate(ctx, nullptr, &len, aad.bytes.data(), static_cast<int>(aad.length)) != 1 ||
        EVP_CipherUpdate(ctx, data, &len, data, static_cast<int>(plain_bytes)) != 1 ||
        EVP_CipherFinal_ex(ctx, data + plain_bytes, &len) != 1) {
      return false;
    }
    OSSL_PARAM tag[2] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, data + plain_bytes, kGcmIcvBytes),
                         OSSL_PARAM_END};
    return EVP_CIPHER_CTX_get_params(ctx, tag) == 1;
  }

  bool open(size_t slot, uint8_t* esp, size_t total, uint64_t seq, DropReason& drop) override {
    EVP_CIPHER_CTX* ctx = context(slot);
    if (ctx == nullptr) {
      drop = DropReason::crypto_failure;
      return false;
    }
    const auto nonce = gcm_nonce(salt_, esp + 8);
    const GcmAad aad = gcm_aad(esp, seq, esn_);
    uint8_t* data = esp + header_bytes();
    const size_t cipher_bytes = total - header_bytes() - kGcmIcvBytes;
    uint8_t* tag = data + cipher_bytes;
    int len = 0;
    OSSL_PARAM tag_param[2] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kGcmIcvBytes), OSSL_PARAM_END};
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), 0) != 1 ||
        EVP_CIPHER_CTX_set_params(ctx, tag_param) != 1 ||
        EVP_CipherUpdate(ctx, nullptr, &len, aad.bytes.data(), static_cast<int>(aad.length)) != 1 ||
        EVP_CipherUpdate(ctx, data, &len, data, static_cast<int>(cipher_bytes)) != 1) {
      drop = DropReason::crypto_failure;
      return false;
    }
    if (EVP_CipherFinal_ex(ctx, data + cipher_bytes, &len) != 1) {
      drop = DropReason::icv_mismatch;
      return false;
    }
    return true;
  }

 private:
  static void free_ctx(EVP_CIPHER_CTX* ctx) { EVP_CIPHER_CTX_free(ctx); }

  EVP_CIPHER_CTX* context(size_t slot) {
    return contexts_.get(slot, [this]() -> EVP_CIPHER_CTX* {
      EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
      if (ctx == nullptr) return nullptr;
      if (EVP_CipherInit_ex(ctx, gcm_cipher(key_len_), nullptr, key_, nullptr, encrypt_ ? 1 : 0) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return nullptr;
      }
      return ctx;
    });
  }

  bool encrypt_;
  bool esn_;
  std::array<uint8_t, 4> salt_;
  uint64_t iv_seed_;
  size_t key_len_;
  uint8_t key_[32];
  SlotCache<EVP_CIPHER_CTX, &OpensslGcm::free_ctx> contexts_;
};

}  // namespace

std::unique_ptr<Transform> make_openssl_gcm(const SaConfig& config, uint64_t iv_seed) {
  return std::make_unique<OpensslGcm>(config, iv_seed);
}

}  // namespace ergw::xfrm::esp
