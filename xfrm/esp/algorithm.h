// ESP transforms the engine implements, and the mapping from the names Azure
// and strongSwan use. Unsafe or unsupported transforms are refused with an
// error that names them (see docs/esp-engine.md "Algorithms").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ergw::xfrm::esp {

enum class Encryption : uint8_t {
  aes_gcm_16,  // RFC 4106, 16-octet ICV, combined mode
  aes_cbc,     // RFC 3602, needs a separate Integrity
  // No protection at all: the payload goes out as it is. Only to measure the
  // cleartext ceiling of the fast path's I/O (bench/run); an SA needs
  // SaConfig::allow_null to carry it, which only ergw-fastpath
  // --unsafe-null-transform sets for a static SA file.
  null_cleartext,
};

enum class Integrity : uint8_t {
  none,             // only with aes_gcm_16 (the AEAD authenticates)
  hmac_sha1_96,     // RFC 2404
  hmac_sha256_128,  // RFC 4868
  hmac_sha384_192,  // RFC 4868
};

struct Algorithm {
  Encryption encryption = Encryption::aes_gcm_16;
  uint16_t key_bits = 256;  // 128, 192 or 256
  Integrity integrity = Integrity::none;

  bool is_aead() const { return encryption == Encryption::aes_gcm_16; }
  bool is_null() const { return encryption == Encryption::null_cleartext; }
  size_t key_bytes() const { return key_bits / 8; }
  // HMAC key length (RFC 2404: 20; RFC 4868: 32/48); 0 for AEAD.
  size_t integrity_key_bytes() const;
  // Octets of ICV on the wire.
  size_t icv_bytes() const;
  // Explicit IV octets on the wire (8 for GCM, 16 for CBC).
  size_t iv_bytes() const;

  bool operator==(const Algorithm&) const = default;
};

// "aes256gcm16", "aes128-sha256", ... (strongSwan ESP proposal keywords).
std::string to_string(const Algorithm& algorithm);

// Parses one strongSwan-style ESP proposal, e.g. "aes256gcm16",
// "aes128gcm128" (same thing), "aes256-sha256", "aes192-sha1", "aes256-sha384".
// Refuses with a named error: des, 3des, md5, null encryption, 8/12-octet GCM
// ICVs, sha512 (not offered by Azure), and anything unknown.
Result<Algorithm> parse_algorithm(std::string_view proposal);

// Maps Azure's IpsecPolicy.ipsecEncryption / ipsecIntegrity pair (values and
// the GCM rule in docs/azure-facts.md). GCMAESxxx must be paired with the
// same GCMAESxxx.
// Refused: None (no confidentiality), DES, DES3 (64-bit block, RFC 8221),
// MD5 (RFC 8221 MUST NOT).
Result<Algorithm> algorithm_from_azure(std::string_view ipsec_encryption,
                                       std::string_view ipsec_integrity);

}  // namespace ergw::xfrm::esp
