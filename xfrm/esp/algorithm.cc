#include "xfrm/esp/algorithm.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace ergw::xfrm::esp {

size_t Algorithm::integrity_key_bytes() const {
  switch (integrity) {
    case Integrity::hmac_sha1_96: return 20;      // RFC 2404 2
    case Integrity::hmac_sha256_128: return 32;   // RFC 4868 2.1.1
    case Integrity::hmac_sha384_192: return 48;
    case Integrity::none: break;
  }
  return 0;
}

size_t Algorithm::icv_bytes() const {
  if (is_aead()) return 16;
  switch (integrity) {
    case Integrity::hmac_sha1_96: return 12;
    case Integrity::hmac_sha256_128: return 16;
    case Integrity::hmac_sha384_192: return 24;
    case Integrity::none: break;
  }
  return 0;
}

size_t Algorithm::iv_bytes() const { return is_null() ? 0 : is_aead() ? 8 : 16; }

std::string to_string(const Algorithm& algorithm) {
  if (algorithm.is_null()) return "null-cleartext";
  std::string name = "aes" + std::to_string(algorithm.key_bits);
  if (algorithm.is_aead()) return name + "gcm16";
  switch (algorithm.integrity) {
    case Integrity::hmac_sha1_96: return name + "-sha1";
    case Integrity::hmac_sha256_128: return name + "-sha256";
    case Integrity::hmac_sha384_192: return name + "-sha384";
    case Integrity::none: break;
  }
  return name + "-none";
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error refused(std::string_view name, std::string_view why) {
  return Error{"ESP algorithm '" + std::string(name) + "' is refused: " + std::string(why)};
}

std::optional<uint16_t> aes_bits(std::string_view text) {
  if (text == "aes128" || text == "aes") return 128;
  if (text == "aes192") return 192;
  if (text == "aes256") return 256;
  return std::nullopt;
}

}  // namespace

Result<Algorithm> parse_algorithm(std::string_view proposal) {
  const std::string text = lower(proposal);
  // Refusals first, so the error names the weak algorithm (RFC 8221 2.1/2.2).
  for (std::string_view weak : {"3des", "des", "cast", "blowfish", "null"}) {
    if (text.rfind(weak, 0) == 0) {
      return refused(proposal, weak == "null" ? "ESP-NULL provides no confidentiality"
                                              : "64-bit block or broken cipher (RFC 8221)");
    }
  }
  if (text.find("md5") != std::string::npos) {
    return refused(proposal, "HMAC-MD5-96 MUST NOT be used (RFC 8221 2.2)");
  }
  const auto dash = text.find('-');
  const std::string cipher = text.substr(0, dash);
  const std::string mac = dash == std::string::npos ? std::string() : text.substr(dash + 1);

  const auto gcm = cipher.find("gcm");
  if (gcm != std::string::npos) {
    const auto bits = aes_bits(cipher.substr(0, gcm));
    const std::string icv = cipher.substr(gcm + 3);
    if (!bits) return Error{"unknown ESP algorithm '" + std::string(proposal) + "'"};
    if (icv == "8" || icv == "64" || icv == "12" || icv == "96") {
      return refused(proposal, "only the 16-octet GCM ICV is implemented (RFC 4106 6 MUST)");
    }
    if (icv != "16" && icv != "128") {
      return Error{"unknown ESP algorithm '" + std::string(proposal) + "'"};
    }
    if (!mac.empty()) {
      return Error{"ESP algorithm '" + std::string(proposal) +
                   "': AES-GCM is combined mode and takes no integrity algorithm"};
    }
    return Algorithm{Encryption::aes_gcm_16, *bits, Integrity::none};
  }
  const auto bits = aes_bits(cipher);
  if (!bits) return Error{"unknown ESP algorithm '" + std::string(proposal) + "'"};
  Algorithm algorithm{Encryption::aes_cbc, *bits, Integrity::none};
  if (mac == "sha1" || mac == "sha1_96") {
    algorithm.integrity = Integrity::hmac_sha1_96;
  } else if (mac == "sha256" || mac == "sha2_256") {
    algorithm.integrity = Integrity::hmac_sha256_128;
  } else if (mac == "sha384" || mac == "sha2_384") {
    algorithm.integrity = Integrity::hmac_sha384_192;
  } else if (mac.empty()) {
    return refused(proposal, "AES-CBC without integrity is not authenticated");
  } else {
    return Error{"ESP algorithm '" + std::string(proposal) + "': unsupported integrity '" + mac + "'"};
  }
  return algorithm;
}

Result<Algorithm> algorithm_from_azure(std::string_view ipsec_encryption,
                                       std::string_view ipsec_integrity) {
  const std::string enc(ipsec_encryption);
  const std::string integ(ipsec_integrity);
  const bool enc_gcm = enc.rfind("GCMAES", 0) == 0;
  const bool integ_gcm = integ.rfind("GCMAES", 0) == 0;
  if (enc_gcm || integ_gcm) {
    // Azure's GCM rule: GCM for both, with the same key length (docs/azure-facts.md).
    if (enc != integ) {
      return Error{"Azure ipsecEncryption '" + enc + "' and ipsecIntegrity '" + integ +
                   "' must name the same GCMAES algorithm"};
    }
    if (enc == "GCMAES128") return Algorithm{Encryption::aes_gcm_16, 128, Integrity::none};
    if (enc == "GCMAES192") return Algorithm{Encryption::aes_gcm_16, 192, Integrity::none};
    if (enc == "GCMAES256") return Algorithm{Encryption::aes_gcm_16, 256, Integrity::none};
    return Error{"unknown Azure ipsecEncryption '" + enc + "'"};
  }
  if (enc == "None") return refused("None", "ESP-NULL provides no confidentiality");
  if (enc == "DES") return refused("DES", "56-bit key, 64-bit block (RFC 8221 MUST NOT)");
  if (enc == "DES3") return refused("DES3", "64-bit block, Sweet32 (RFC 8221 SHOULD NOT)");
  if (integ == "MD5") return refused("MD5", "HMAC-MD5-96 MUST NOT be used (RFC 8221 2.2)");
  Algorithm algorithm{Encryption::aes_cbc, 0, Integrity::none};
  if (enc == "AES128") algorithm.key_bits = 128;
  else if (enc == "AES192") algorithm.key_bits = 192;
  else if (enc == "AES256") algorithm.key_bits = 256;
  else return Error{"unknown Azure ipsecEncryption '" + enc + "'"};
  if (integ == "SHA1") algorithm.integrity = Integrity::hmac_sha1_96;
  else if (integ == "SHA256") algorithm.integrity = Integrity::hmac_sha256_128;
  else return Error{"unknown Azure ipsecIntegrity '" + integ + "'"};
  return algorithm;
}

}  // namespace ergw::xfrm::esp
