#include "xfrm/esp/transform.h"

#include "xfrm/esp/openssl_transforms.h"

namespace ergw::xfrm::esp {

CryptoBackend default_gcm_backend() {
  // bench/esp measured intel-ipsec-mb's GCM at about 3x OpenSSL 3.0's on the
  // target CPU (docs/esp-engine.md "Numbers"), so it is preferred whenever the
  // library is linked in and accepts the CPU.
  return ipsec_mb_available() ? CryptoBackend::ipsec_mb : CryptoBackend::openssl;
}

namespace {

// Encryption::null_cleartext: the ESP framing (SPI, sequence, padding,
// trailer) without any protection, so bench/run can measure what the I/O
// alone carries. validate() refuses it unless SaConfig::allow_null.
class NullTransform final : public Transform {
 public:
  NullTransform() : Transform(/*iv_bytes=*/0, /*icv_bytes=*/0, /*alignment=*/4) {}
  bool seal(size_t, uint8_t*, size_t, uint64_t) override { return true; }
  bool open(size_t, uint8_t*, size_t, uint64_t, DropReason&) override { return true; }
};

}  // namespace

Result<std::unique_ptr<Transform>> make_transform(const SaConfig& config, uint64_t iv_seed) {
  if (config.algorithm.is_null()) {
    if (!config.allow_null) return Error{"the null transform carries cleartext and is refused"};
    return std::unique_ptr<Transform>(std::make_unique<NullTransform>());
  }
  if (!config.algorithm.is_aead()) return make_cbc_hmac(config, iv_seed);
  CryptoBackend backend = config.backend;
  if (backend == CryptoBackend::automatic) backend = default_gcm_backend();
  if (backend == CryptoBackend::ipsec_mb) {
    auto transform = make_ipsec_mb_gcm(config, iv_seed);
    if (!transform) return Error{"the intel-ipsec-mb backend is not available on this build or CPU"};
    return transform;
  }
  return make_openssl_gcm(config, iv_seed);
}

}  // namespace ergw::xfrm::esp
