#include "gateway/api/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

namespace ergw::api {
namespace {

constexpr std::string_view kPrefix = "ergw_";
constexpr size_t kIdLength = 16;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) return {};
  return out;
}

std::string hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string base64url(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (i + 1 < bytes.size()) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string salted_hash(const std::string& salt, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, salt.data(), salt.size());
  EVP_DigestUpdate(ctx, secret.data(), secret.size());
  EVP_DigestFinal_ex(ctx, digest.data(), &size);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

// The secret part of a key, or empty.
std::string_view secret_of(std::string_view presented) {
  if (presented.size() <= kPrefix.size() + kIdLength + 1) return {};
  return presented.substr(kPrefix.size() + kIdLength + 1);
}

}  // namespace

std::optional<Scope> parse_scope(const std::string& text) {
  if (text == "read") return Scope::read;
  if (text == "admin") return Scope::admin;
  return std::nullopt;
}

const char* scope_name(Scope scope) { return scope == Scope::admin ? "admin" : "read"; }

bool is_valid_key_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

Result<NewApiKey> generate_api_key(const std::string& name, Scope scope, const std::string& created_by, int64_t now) {
  const auto id = random_bytes(kIdLength / 2);
  auto secret = random_bytes(32);
  const auto salt = random_bytes(16);
  if (id.empty() || secret.empty() || salt.empty()) return Error{"no randomness for a new API key"};
  NewApiKey out;
  out.record.name = name;
  out.record.key_id = hex(id);
  out.record.scope = scope_name(scope);
  out.record.salt = salt;
  const auto encoded = base64url(secret);
  out.record.hash = salted_hash(salt, encoded);
  out.record.created_at = now;
  out.record.created_by = created_by;
  out.key = std::string(kPrefix) + out.record.key_id + "_" + encoded;
  OPENSSL_cleanse(secret.data(), secret.size());
  return out;
}

std::optional<std::string> key_id_of(const std::string& presented) {
  if (presented.size() <= kPrefix.size() + kIdLength + 1 || presented.compare(0, kPrefix.size(), kPrefix) != 0 ||
      presented[kPrefix.size() + kIdLength] != '_') {
    return std::nullopt;
  }
  auto id = presented.substr(kPrefix.size(), kIdLength);
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return id;
}

bool key_matches(const std::string& presented, const store::ApiKeyRecord& record) {
  const auto secret = secret_of(presented);
  if (secret.empty()) return false;
  const auto hash = salted_hash(record.salt, secret);
  return hash.size() == record.hash.size() && CRYPTO_memcmp(hash.data(), record.hash.data(), hash.size()) == 0;
}

}  // namespace ergw::api
