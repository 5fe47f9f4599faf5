#include "gateway/ergwd/esp_overhead.h"

#include <algorithm>
#include <cctype>

namespace ergw::gateway {
namespace {

constexpr int kOuterIpv4 = 20;
constexpr int kOuterIpv6 = 40;
constexpr int kUdpHeader = 8;       // RFC 3948
constexpr int kSpiAndSequence = 8;  // RFC 4303 section 2
constexpr int kTrailer = 2;         // pad length + next header
constexpr int kEspAlignment = 4;    // RFC 4303 section 2.4

struct Cipher {
  int iv = 0;
  int block = kEspAlignment;
  int aead_icv = 0;  // > 0: AEAD with this ICV, no separate integrity
};

struct Integrity {
  int icv = 0;
};

std::optional<Cipher> cipher_of_sa(std::string_view alg) {
  if (alg == "AES_CBC") return Cipher{16, 16, 0};
  if (alg == "3DES_CBC" || alg == "DES_CBC") return Cipher{8, 8, 0};
  if (alg == "AES_GCM_16") return Cipher{8, kEspAlignment, 16};  // RFC 4106: 8-byte IV
  if (alg == "AES_GCM_12") return Cipher{8, kEspAlignment, 12};
  if (alg == "AES_GCM_8") return Cipher{8, kEspAlignment, 8};
  if (alg == "NULL") return Cipher{0, kEspAlignment, 0};
  return std::nullopt;
}

std::optional<Integrity> integrity_of_sa(std::string_view alg) {
  if (alg == "HMAC_MD5_96" || alg == "HMAC_SHA1_96" || alg == "AES_XCBC_96") return Integrity{12};
  if (alg == "HMAC_SHA2_256_128") return Integrity{16};  // RFC 4868
  if (alg == "HMAC_SHA2_384_192") return Integrity{24};
  if (alg == "HMAC_SHA2_512_256") return Integrity{32};
  return std::nullopt;
}

std::optional<Cipher> cipher_of_proposal(std::string_view word) {
  if (word == "aes128" || word == "aes192" || word == "aes256" || word == "aes") return Cipher{16, 16, 0};
  if (word == "3des" || word == "des") return Cipher{8, 8, 0};
  if (word == "null") return Cipher{0, kEspAlignment, 0};
  if (word.starts_with("aes") && word.size() > 2) {
    // aes128gcm16, aes256gcm12, ...: the ICV in octets follows "gcm".
    const auto gcm = word.find("gcm");
    if (gcm != std::string_view::npos) {
      const auto icv = word.substr(gcm + 3);
      if (icv == "16" || icv.empty()) return Cipher{8, kEspAlignment, 16};
      if (icv == "12") return Cipher{8, kEspAlignment, 12};
      if (icv == "8") return Cipher{8, kEspAlignment, 8};
    }
  }
  return std::nullopt;
}

std::optional<std::pair<Integrity, std::string>> integrity_of_proposal(std::string_view word) {
  if (word == "md5") return std::pair{Integrity{12}, std::string("HMAC_MD5_96")};
  if (word == "sha1" || word == "sha") return std::pair{Integrity{12}, std::string("HMAC_SHA1_96")};
  if (word == "sha256") return std::pair{Integrity{16}, std::string("HMAC_SHA2_256_128")};
  if (word == "sha384") return std::pair{Integrity{24}, std::string("HMAC_SHA2_384_192")};
  if (word == "sha512") return std::pair{Integrity{32}, std::string("HMAC_SHA2_512_256")};
  return std::nullopt;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

int fixed_bytes(const EspTransform& t, const EspPath& path) {
  return (path.ipv6 ? kOuterIpv6 : kOuterIpv4) + (path.udp_encap ? kUdpHeader : 0) + kSpiAndSequence + t.iv_bytes +
         t.icv_bytes;
}

}  // namespace

std::optional<EspTransform> transform_of_sa(std::string_view encr_alg, std::optional<uint32_t> encr_keysize,
                                            std::string_view integ_alg) {
  const auto cipher = cipher_of_sa(encr_alg);
  if (!cipher) return std::nullopt;
  EspTransform t;
  t.iv_bytes = cipher->iv;
  t.block_bytes = cipher->block;
  t.name = std::string(encr_alg) + (encr_keysize ? "_" + std::to_string(*encr_keysize) : "");
  if (cipher->aead_icv > 0) {
    t.icv_bytes = cipher->aead_icv;
    return t;
  }
  const auto integrity = integrity_of_sa(integ_alg);
  if (!integrity) return std::nullopt;
  t.icv_bytes = integrity->icv;
  t.name += "/" + std::string(integ_alg);
  return t;
}

std::optional<EspTransform> transform_of_proposal(std::string_view proposal) {
  // Words separated by '-': a cipher, an integrity algorithm unless the
  // cipher is AEAD, then DH groups and "esn"/"noesn", which add nothing.
  std::vector<std::string_view> words;
  size_t start = 0;
  while (start <= proposal.size()) {
    const size_t end = proposal.find('-', start);
    words.push_back(proposal.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (words.empty()) return std::nullopt;
  const auto cipher = cipher_of_proposal(words[0]);
  if (!cipher) return std::nullopt;
  EspTransform t;
  t.iv_bytes = cipher->iv;
  t.block_bytes = cipher->block;
  t.name = upper(words[0]);
  if (cipher->aead_icv > 0) {
    t.icv_bytes = cipher->aead_icv;
    return t;
  }
  if (words.size() < 2) return std::nullopt;
  const auto integrity = integrity_of_proposal(words[1]);
  if (!integrity) return std::nullopt;
  t.icv_bytes = integrity->first.icv;
  t.name += "/" + integrity->second;
  return t;
}

int max_inner_packet(const EspTransform& transform, const EspPath& path) {
  const int room = path.mtu - fixed_bytes(transform, path);
  const int block = std::max(transform.block_bytes, kEspAlignment);
  return std::max(0, room / block * block - kTrailer);
}

int esp_overhead(const EspTransform& transform, const EspPath& path) {
  return path.mtu - max_inner_packet(transform, path);
}

}  // namespace ergw::gateway
