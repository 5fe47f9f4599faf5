#include "xfrm/esp/transform.h"

#include "xfrm/esp/openssl_transforms.h"

namespace ergw::xfrm::esp {

CryptoBackend default_gcm_backend() {
  // bench/esp measured intel-ipsec-mb's GCM at about 3x OpenSSL 3.0's on the
  // target CPU (docs/esp-engine.md "Numbers"), so it is preferred whenever the
  // library is linked in and accepts the CPU.
  return ipsec_mb_available() ? CryptoBackend::ipsec_mb : CryptoBackend::openssl;
}

Result<std::unique_ptr<Transform>> make_transform(const SaConfig& config, uint64_t iv_seed) {
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
