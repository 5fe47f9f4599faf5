#include "xfrm/esp/hmac_signer.h"

// The SHA*_Init/Update/Final functions are deprecated in OpenSSL 3.0 in favour
// of EVP, but they are the ones whose context is a plain struct that can be
// copied per packet without touching the heap; they run the same assembly.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>

namespace ergw::xfrm::esp {

namespace {

union HashState {
  SHA_CTX sha1;
  SHA256_CTX sha256;
  SHA512_CTX sha384;  // SHA-384 runs on the SHA-512 context
};

size_t block_bytes(Integrity integrity) { return integrity == Integrity::hmac_sha384_192 ? 128 : 64; }

size_t digest_bytes(Integrity integrity) {
  switch (integrity) {
    case Integrity::hmac_sha1_96: return SHA_DIGEST_LENGTH;
    case Integrity::hmac_sha384_192: return SHA384_DIGEST_LENGTH;
    default: return SHA256_DIGEST_LENGTH;
  }
}

bool hash_init(Integrity integrity, HashState& s) {
  switch (integrity) {
    case Integrity::hmac_sha1_96: return SHA1_Init(&s.sha1) == 1;
    case Integrity::hmac_sha256_128: return SHA256_Init(&s.sha256) == 1;
    case Integrity::hmac_sha384_192: return SHA384_Init(&s.sha384) == 1;
    case Integrity::none: break;
  }
  return false;
}

bool hash_update(Integrity integrity, HashState& s, const uint8_t* data, size_t length) {
  switch (integrity) {
    case Integrity::hmac_sha1_96: return SHA1_Update(&s.sha1, data, length) == 1;
    case Integrity::hmac_sha256_128: return SHA256_Update(&s.sha256, data, length) == 1;
    case Integrity::hmac_sha384_192: return SHA384_Update(&s.sha384, data, length) == 1;
    case Integrity::none: break;
  }
  return false;
}

bool hash_final(Integrity integrity, HashState& s, uint8_t* out) {
  switch (integrity) {
    case Integrity::hmac_sha1_96: return SHA1_Final(out, &s.sha1) == 1;
    case Integrity::hmac_sha256_128: return SHA256_Final(out, &s.sha256) == 1;
    case Integrity::hmac_sha384_192: return SHA384_Final(out, &s.sha384) == 1;
    case Integrity::none: break;
  }
  return false;
}

}  // namespace

struct HmacSigner::States {
  HashState inner;  // after H(K xor ipad) has absorbed one block
  HashState outer;  // after H(K xor opad) has absorbed one block
};

HmacSigner::HmacSigner() : states_(new (std::nothrow) States{}) {}

HmacSigner::~HmacSigner() {
  if (states_ != nullptr) {
    OPENSSL_cleanse(states_, sizeof(States));
    delete states_;
  }
}

bool HmacSigner::init(Integrity integrity, std::span<const uint8_t> key) {
  if (states_ == nullptr || integrity == Integrity::none) return false;
  integrity_ = integrity;
  const size_t block = block_bytes(integrity);
  std::array<uint8_t, 128> padded{};
  // RFC 2104 2: a key longer than the block is hashed first.
  if (key.size() > block) {
    HashState s;
    if (!hash_init(integrity, s) || !hash_update(integrity, s, key.data(), key.size()) ||
        !hash_final(integrity, s, padded.data())) {
      return false;
    }
  } else {
    std::copy(key.begin(), key.end(), padded.begin());
  }
  std::array<uint8_t, 128> pad{};
  for (size_t i = 0; i < block; ++i) pad[i] = padded[i] ^ 0x36;
  bool ok = hash_init(integrity, states_->inner) && hash_update(integrity, states_->inner, pad.data(), block);
  for (size_t i = 0; i < block; ++i) pad[i] = padded[i] ^ 0x5c;
  ok = ok && hash_init(integrity, states_->outer) && hash_update(integrity, states_->outer, pad.data(), block);
  OPENSSL_cleanse(padded.data(), padded.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  Algorithm algorithm{Encryption::aes_cbc, 128, integrity};
  icv_bytes_ = algorithm.icv_bytes();
  return ok;
}

bool HmacSigner::sign(std::initializer_list<std::span<const uint8_t>> parts, uint8_t* icv_out) const {
  if (states_ == nullptr || integrity_ == Integrity::none) return false;
  uint8_t digest[SHA512_DIGEST_LENGTH];
  HashState s = states_->inner;
  for (const auto& part : parts) {
    if (!hash_update(integrity_, s, part.data(), part.size())) return false;
  }
  if (!hash_final(integrity_, s, digest)) return false;
  s = states_->outer;
  if (!hash_update(integrity_, s, digest, digest_bytes(integrity_)) || !hash_final(integrity_, s, digest)) {
    return false;
  }
  std::memcpy(icv_out, digest, icv_bytes_);
  OPENSSL_cleanse(&s, sizeof s);
  return true;
}

}  // namespace ergw::xfrm::esp
