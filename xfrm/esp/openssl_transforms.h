// Factories of the concrete transforms (internal to the engine).
#pragma once

#include <memory>

#include "xfrm/esp/sa_config.h"
#include "xfrm/esp/transform.h"

namespace ergw::xfrm::esp {

std::unique_ptr<Transform> make_openssl_gcm(const SaConfig& config, uint64_t iv_seed);
std::unique_ptr<Transform> make_cbc_hmac(const SaConfig& config, uint64_t iv_seed);
// nullptr when the library is missing or refuses the CPU.
std::unique_ptr<Transform> make_ipsec_mb_gcm(const SaConfig& config, uint64_t iv_seed);

}  // namespace ergw::xfrm::esp
