// AES-CBC (RFC 3602) with HMAC-SHA1-96 (RFC 2404) or HMAC-SHA-256-128 /
// HMAC-SHA-384-192 (RFC 4868), encrypt-then-MAC as RFC 4303 3.3.2 orders it.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <new>

#include "xfrm/esp/byte_order.h"
#include "xfrm/esp/hmac_signer.h"
#include "xfrm/esp/openssl_transforms.h"
#include "xfrm/esp/slot_cache.h"

namespace ergw::xfrm::esp {
namespace {

constexpr size_t kCbcBlock = 16;

const EVP_CIPHER* cbc_cipher(size_t key_bytes) {
  switch (key_bytes) {
    case 16: return EVP_aes_128_cbc();
    case 24: return EVP_aes_192_cbc();
    default: return EVP_aes_256_cbc();
  }
}

class CbcHmac final : public Transform {
 public:
  CbcHmac(const SaConfig& config, uint64_t iv_seed)
      : Transform(kCbcBlock, config.algorithm.icv_bytes(), kCbcBlock),
        encrypt_(config.direction == Direction::outbound),
        esn_(config.esn),
        integrity_(config.algorithm.integrity),
        iv_seed_(iv_seed),
        key_len_(config.encryption_key.size()),
        mac_key_len_(config.integrity_key.size()) {
    std::memcpy(key_, config.encryption_key.data(), key_len_);
    std::memcpy(mac_key_, config.integrity_key.data(), mac_key_len_);
  }
  ~CbcHmac() override {
    OPENSSL_cleanse(key_, sizeof key_);
    OPENSSL_cleanse(mac_key_, sizeof mac_key_);
  }

  bool seal(size_t slot, uint8_t* esp, size_t plain_bytes, uint64_t seq) override {
    EVP_CIPHER_CTX* ctx = cipher(slot);
    HmacSigner* mac = hmac(slot);
    if (ctx == nullptr || mac == nullptr) return false;
    // RFC 3602 2.3 wants an unpredictable IV. NIST SP 800-38A Appendix C: the
    // forward cipher of a unique nonce under the data key is one. CBC with a
    // zero IV over (nonce block || plaintext) yields exactly
    // E_K(nonce) || CBC_{IV=E_K(nonce)}(plaintext), in one pass.
    uint8_t* iv = esp + 8;
    store_be64(iv, iv_seed_);
    store_be64(iv + 8, seq);
    static constexpr uint8_t kZeroIv[kCbcBlock] = {};
    int len = 0;
    const int span = static_cast<int>(kCbcBlock + plain_bytes);
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, kZeroIv, 1) != 1 ||
        EVP_CipherUpdate(ctx, iv, &len, iv, span) != 1 || len != span) {
      return false;
    }
    return compute_icv(mac, esp, header_bytes() + plain_bytes, seq, esp + header_bytes() + plain_bytes);
  }

  bool open(size_t slot, uint8_t* esp, size_t total, uint64_t seq, DropReason& drop) override {
    EVP_CIPHER_CTX* ctx = cipher(slot);
    HmacSigner* mac = hmac(slot);
    if (ctx == nullptr || mac == nullptr) {
      drop = DropReason::crypto_failure;
      return false;
    }
    const size_t authenticated = total - icv_bytes();
    uint8_t expected[EVP_MAX_MD_SIZE];
    if (!compute_icv(mac, esp, authenticated, seq, expected)) {
      drop = DropReason::crypto_failure;
      return false;
    }
    if (CRYPTO_memcmp(expected, esp + authenticated, icv_bytes()) != 0) {
      drop = DropReason::icv_mismatch;
      return false;
    }
    uint8_t* data = esp + header_bytes();
    const int cipher_bytes = static_cast<int>(authenticated - header_bytes());
    int len = 0;
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, esp + 8, 0) != 1 ||
        EVP_CipherUpdate(ctx, data, &len, data, cipher_bytes) != 1 || len != cipher_bytes) {
      drop = DropReason::crypto_failure;
      return false;
    }
    return true;
  }

 private:
  static void free_cipher(EVP_CIPHER_CTX* ctx) { EVP_CIPHER_CTX_free(ctx); }
  static void free_mac(HmacSigner* signer) { delete signer; }

  // RFC 4303 2.2.1 / 3.3.2.1: with ESN the high 32 bits follow the packet in
  // the ICV input (not transmitted). Writes the truncated ICV to `out`.
  bool compute_icv(HmacSigner* mac, const uint8_t* esp, size_t length, uint64_t seq, uint8_t* out) {
    if (!esn_) return mac->sign({std::span<const uint8_t>(esp, length)}, out);
    uint8_t high[4];
    store_be32(high, static_cast<uint32_t>(seq >> 32));
    return mac->sign({std::span<const uint8_t>(esp, length), std::span<const uint8_t>(high)}, out);
  }

  EVP_CIPHER_CTX* cipher(size_t slot) {
    return ciphers_.get(slot, [this]() -> EVP_CIPHER_CTX* {
      EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
      if (ctx == nullptr) return nullptr;
      if (EVP_CipherInit_ex(ctx, cbc_cipher(key_len_), nullptr, key_, nullptr, encrypt_ ? 1 : 0) != 1 ||
          EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return nullptr;
      }
      return ctx;
    });
  }

  HmacSigner* hmac(size_t slot) {
    return macs_.get(slot, [this]() -> HmacSigner* {
      auto* signer = new (std::nothrow) HmacSigner();
      if (signer == nullptr) return nullptr;
      if (!signer->init(integrity_, std::span<const uint8_t>(mac_key_, mac_key_len_))) {
        delete signer;
        return nullptr;
      }
      return signer;
    });
  }

  bool encrypt_;
  bool esn_;
  Integrity integrity_;
  uint64_t iv_seed_;
  size_t key_len_;
  size_t mac_key_len_;
  uint8_t key_[32];
  uint8_t mac_key_[64];
  SlotCache<EVP_CIPHER_CTX, &CbcHmac::free_cipher> ciphers_;
  SlotCache<HmacSigner, &CbcHmac::free_mac> macs_;
};

}  // namespace

std::unique_ptr<Transform> make_cbc_hmac(const SaConfig& config, uint64_t iv_seed) {
  return std::make_unique<CbcHmac>(config, iv_seed);
}

}  // namespace ergw::xfrm::esp
