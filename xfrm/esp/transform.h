// The cryptographic half of one SA: how the ESP payload between the header and
// the ICV is protected. Sa does everything else (sequence numbers, replay,
// lifetimes, trailer). One Transform per SA, shared by all threads; any
// per-thread state lives in per-slot caches inside the implementation.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/result.h"
#include "xfrm/esp/drop_reason.h"
#include "xfrm/esp/sa_config.h"

namespace ergw::xfrm::esp {

class Transform {
 public:
  virtual ~Transform() = default;

  // SPI + sequence + explicit IV.
  size_t header_bytes() const { return 8 + iv_bytes_; }
  size_t iv_bytes() const { return iv_bytes_; }
  size_t icv_bytes() const { return icv_bytes_; }
  // The ciphertext (payload + padding + 2-octet trailer) must be a multiple of this.
  size_t alignment() const { return alignment_; }
  // RFC 4303 2.4: the padding that makes payload + padding + 2 a multiple of
  // alignment(). Alignments are powers of two (4 or 16), so this is a mask
  // rather than two integer divisions per packet.
  size_t padding(size_t inner_length) const { return (size_t{0} - (inner_length + 2)) & (alignment_ - 1); }

  // esp[0..8) holds SPI and low sequence number; esp[header_bytes(),
  // +plain_bytes) the padded plaintext. Writes the IV, encrypts in place and
  // appends the ICV. `seq` is the full 64-bit sequence number.
  virtual bool seal(size_t slot, uint8_t* esp, size_t plain_bytes, uint64_t seq) = 0;

  // esp[0, total) is SPI..ICV with total >= header + alignment + icv (checked
  // by the caller). Verifies the ICV (with the ESN high bits when esn) and
  // decrypts in place. Returns true, or sets `drop`.
  virtual bool open(size_t slot, uint8_t* esp, size_t total, uint64_t seq, DropReason& drop) = 0;

 protected:
  Transform(size_t iv_bytes, size_t icv_bytes, size_t alignment)
      : iv_bytes_(iv_bytes), icv_bytes_(icv_bytes), alignment_(alignment) {
    assert(alignment != 0 && (alignment & (alignment - 1)) == 0);
  }

 private:
  size_t iv_bytes_;
  size_t icv_bytes_;
  size_t alignment_;
};

// Builds the transform for a validated config; the iv_seed is resolved by the caller.
Result<std::unique_ptr<Transform>> make_transform(const SaConfig& config, uint64_t iv_seed);

// Which AES-GCM backend `automatic` picks on this build.
CryptoBackend default_gcm_backend();
bool ipsec_mb_available();

}  // namespace ergw::xfrm::esp
