// RFC 4106 AES-GCM-ESP nonce and AAD layout, shared by the OpenSSL and
// intel-ipsec-mb backends.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "xfrm/esp/byte_order.h"

namespace ergw::xfrm::esp {

inline constexpr size_t kGcmIvBytes = 8;   // RFC 4106 3.1 explicit IV
inline constexpr size_t kGcmIcvBytes = 16;  // RFC 4106 6: 16 octets MUST
inline constexpr size_t kGcmNonceBytes = 12;

// RFC 4106 4: nonce = salt (4) || explicit IV (8).
inline std::array<uint8_t, kGcmNonceBytes> gcm_nonce(const std::array<uint8_t, 4>& salt,
                                                     const uint8_t* explicit_iv) {
  std::array<uint8_t, kGcmNonceBytes> nonce;
  std::memcpy(nonce.data(), salt.data(), 4);
  std::memcpy(nonce.data() + 4, explicit_iv, kGcmIvBytes);
  return nonce;
}

// RFC 4106 5: AAD = SPI || seq (8) or SPI || seq_hi || seq_lo (12) with ESN.
struct GcmAad {
  std::array<uint8_t, 12> bytes;
  size_t length;
};

inline GcmAad gcm_aad(const uint8_t* esp, uint64_t seq, bool esn) {
  GcmAad aad{};
  std::memcpy(aad.bytes.data(), esp, 4);
  if (esn) {
    store_be64(aad.bytes.data() + 4, seq);
    aad.length = 12;
  } else {
    std::memcpy(aad.bytes.data() + 4, esp + 4, 4);
    aad.length = 8;
  }
  return aad;
}

}  // namespace ergw::xfrm::esp
