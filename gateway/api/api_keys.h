// API keys: "ergw_<id>_<secret>", where <id> (16 hex digits) finds the record
// and <secret> (32 random bytes, base64url) is checked against the record's
// salted SHA-256. The secret's 256 bits make a slow password hash pointless:
// nobody can guess it, and a stolen store gives only salted hashes.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "gateway/store/api_key_store.h"

namespace ergw::api {

enum class Scope { read, admin };
std::optional<Scope> parse_scope(const std::string& text);
const char* scope_name(Scope scope);

struct NewApiKey {
  std::string key;  // shown once
  store::ApiKeyRecord record;
};

// A new key for `name` with `scope`; nothing stored yet.
Result<NewApiKey> generate_api_key(const std::string& name, Scope scope, const std::string& created_by, int64_t now);

// The id part of a presented key (to find its record), or nullopt when the
// text is not shaped like a key.
std::optional<std::string> key_id_of(const std::string& presented);

// True when `presented` is the key `record` was made for (constant-time).
bool key_matches(const std::string& presented, const store::ApiKeyRecord& record);

// Names: 1-63 of letters, digits, '_', '.', '-', '@'.
bool is_valid_key_name(const std::string& name);

}  // namespace ergw::api
