// ApiKeyStore: the API keys' records. A key is stored as its public id, a
// random salt and the salted hash of its secret part; the key itself is shown
// once, when it is made (gateway/api/api_keys.h), and cannot be read back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "gateway/store/sqlite.h"

namespace ergw::store {

struct ApiKeyRecord {
  std::string name;    // who: appears in the audit log and as a revision's author
  std::string key_id;  // the public part of the key, to find the record
  std::string scope;   // "read" or "admin"
  std::string salt;    // bytes
  std::string hash;    // bytes: SHA-256(salt || secret)
  int64_t created_at = 0;
  std::string created_by;
  std::optional<int64_t> revoked_at;
};

class ApiKeyStore {
 public:
  explicit ApiKeyStore(Database& db) : db_(db) {}

  // Fails when the name is taken (also by a revoked key: names stay unique in
  // the audit log).
  Status add(const ApiKeyRecord& record);
  Result<std::optional<ApiKeyRecord>> find_by_key_id(const std::string& key_id);
  Result<std::optional<ApiKeyRecord>> find_by_name(const std::string& name);
  Result<std::vector<ApiKeyRecord>> list();
  // False when there was no such active key.
  Result<bool> revoke(const std::string& name, int64_t now);

 private:
  Database& db_;
};

}  // namespace ergw::store
