// AES-GCM-ESP (RFC 4106) through Intel's multi-buffer library (direct GCM
// API). The expanded key and GHASH tables are per SA and read-only; the only
// per-thread state is the library's IMB_MGR, one per thread.
#include "xfrm/esp/openssl_transforms.h"

#ifdef ERGW_HAVE_IPSEC_MB

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "xfrm/esp/gcm_nonce.h"

namespace ergw::xfrm::esp {
namespace {

struct MgrDeleter {
  void operator()(IMB_MGR* mgr) const { free_mb_mgr(mgr); }
};

IMB_MGR* thread_manager() {
  thread_local std::unique_ptr<IMB_MGR, MgrDeleter> mgr = []() {
    std::unique_ptr<IMB_MGR, MgrDeleter> m(alloc_mb_mgr(0));
    if (m) {
      init_mb_mgr_auto(m.get(), nullptr);
      if (imb_get_errno(m.get()) != 0) m.reset();
    }
    return m;
  }();
  return mgr.get();
}

class IpsecMbGcm final : public Transform {
 public:
  IpsecMbGcm(const SaConfig& config, uint64_t iv_seed, IMB_MGR* mgr)
      : Transform(kGcmIvBytes, kGcmIcvBytes, 4),
        esn_(config.esn),
        salt_(config.gcm_salt),
        iv_seed_(iv_seed),
        key_bits_(config.algorithm.key_bits),
        key_(static_cast<gcm_key_data*>(std::aligned_alloc(64, round_up(sizeof(gcm_key_data))))) {
    if (key_ == nullptr) return;
    const uint8_t* raw = config.encryption_key.data();
    switch (key_bits_) {
      case 128: IMB_AES128_GCM_PRE(mgr, raw, key_); break;
      case 192: IMB_AES192_GCM_PRE(mgr, raw, key_); break;
      default: IMB_AES256_GCM_PRE(mgr, raw, key_); break;
    }
  }
  ~IpsecMbGcm() override {
    if (key_ != nullptr) {
      OPENSSL_cleanse(key_, sizeof(gcm_key_data));
      std::free(key_);
    }
  }
  bool valid() const { return key_ != nullptr; }

  bool seal(size_t /*slot*/, uint8_t* esp, size_t plain_bytes, uint64_t seq) override {
    IMB_MGR* mgr = thread_manager();
    if (mgr == nullptr) return false;
    uint8_t* iv = esp + 8;
    store_be64(iv, seq ^ iv_seed_);  // RFC 4106 3.1, as in openssl_gcm.cc
    const auto nonce = gcm_nonce(salt_, iv);
    const GcmAad aad = gcm_aad(esp, seq, esn_);
    uint8_t* data = esp + header_bytes();
    gcm_context_data ctx;
    switch (key_bits_) {
      case 128:
        IMB_AES128_GCM_ENC(mgr, key_, &ctx, data, data, plain_bytes, nonce.data(), aad.bytes.data(),
                           aad.length, data + plain_bytes, kGcmIcvBytes);
        break;
      case 192:
        IMB_AES192_GCM_ENC(mgr, key_, &ctx, data, data, plain_bytes, nonce.data(), aad.bytes.data(),
                           aad.length, data + plain_bytes, kGcmIcvBytes);
        break;
      default:
        IMB_AES256_GCM_ENC(mgr, key_, &ctx, data, data, plain_bytes, nonce.data(), aad.bytes.data(),
                           aad.length, data + plain_bytes, kGcmIcvBytes);
        break;
    }
    return true;
  }

  bool open(size_t /*slot*/, uint8_t* esp, size_t total, uint64_t seq, DropReason& drop) override {
    IMB_MGR* mgr = thread_manager();
    if (mgr == nullptr) {
      drop = DropReason::crypto_failure;
      return false;
    }
    const auto nonce = gcm_nonce(salt_, esp + 8);
    const GcmAad aad = gcm_aad(esp, seq, esn_);
    uint8_t* data = esp + header_bytes();
    const size_t cipher_bytes = total - header_bytes() - kGcmIcvBytes;
    uint8_t tag[kGcmIcvBytes];
    gcm_context_data ctx;
    switch (key_bits_) {
      case 128:
        IMB_AES128_GCM_DEC(mgr, key_, &ctx, data, data, cipher_bytes, nonce.data(), aad.bytes.data(),
                           aad.length, tag, kGcmIcvBytes);
        break;
      case 192:
        IMB_AES192_GCM_DEC(mgr, key_, &ctx, data, data, cipher_bytes, nonce.data(), aad.bytes.data(),
                           aad.length, tag, kGcmIcvBytes);
        break;
      default:
        IMB_AES256_GCM_DEC(mgr, key_, &ctx, data, data, cipher_bytes, nonce.data(), aad.bytes.data(),
                           aad.length, tag, kGcmIcvBytes);
        break;
    }
    if (CRYPTO_memcmp(tag, data + cipher_bytes, kGcmIcvBytes) != 0) {
      drop = DropReason::icv_mismatch;
      return false;
    }
    return true;
  }

 private:
  static size_t round_up(size_t n) { return (n + 63) / 64 * 64; }

  bool esn_;
  std::array<uint8_t, 4> salt_;
  uint64_t iv_seed_;
  uint16_t key_bits_;
  gcm_key_data* key_;
};

}  // namespace

bool ipsec_mb_available() { return thread_manager() != nullptr; }

std::unique_ptr<Transform> make_ipsec_mb_gcm(const SaConfig& config, uint64_t iv_seed) {
  IMB_MGR* mgr = thread_manager();
  if (mgr == nullptr) return nullptr;
  auto transform = std::make_unique<IpsecMbGcm>(config, iv_seed, mgr);
  if (!transform->valid()) return nullptr;
  return transform;
}

}  // namespace ergw::xfrm::esp

#else  // !ERGW_HAVE_IPSEC_MB

namespace ergw::xfrm::esp {

bool ipsec_mb_available() { return false; }
std::unique_ptr<Transform> make_ipsec_mb_gcm(const SaConfig&, uint64_t) { return nullptr; }

}  // namespace ergw::xfrm::esp

#endif
