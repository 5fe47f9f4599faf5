#include "gateway/policy/secret.h"

#include <openssl/crypto.h>

namespace ergw::policy {

// Wipe the bytes we held so a core dump taken later does not carry them.
Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

}  // namespace ergw::policy
