#include "gateway/store/api_key_store.h"

namespace ergw::store {
namespace {

constexpr const char* kColumns = "name, key_id, scope, salt, hash, created_at, created_by, revoked_at";

ApiKeyRecord read_record(const Statement& s) {
  ApiKeyRecord r;
  r.name = s.column_text(0);
  r.key_id = s.column_text(1);
  r.scope = s.column_text(2);
  r.salt = s.column_text(3);
  r.hash = s.column_text(4);
  r.created_at = s.column_int(5);
  r.created_by = s.column_text(6);
  r.revoked_at = s.column_optional_int(7);
  return r;
}

Result<std::optional<ApiKeyRecord>> find_one(Database& db, const char* column, const std::string& value) {
  auto s = db.prepare(std::string("SELECT ") + kColumns + " FROM api_keys WHERE " + column + " = ?1");
  if (!s) return Error{s.error()};
  s->bind(1, value);
  auto row = s->step();
  if (!row) return Error{row.error()};
  if (!row.value()) return std::optional<ApiKeyRecord>();
  return std::optional<ApiKeyRecord>(read_record(*s));
}

}  // namespace

Status ApiKeyStore::add(const ApiKeyRecord& r) {
  auto existing = find_by_name(r.name);
  if (!existing) return Error{existing.error()};
  if (existing.value()) return Error{"an API key named \"" + r.name + "\" exists already"};
  auto s = db_.prepare(
      "INSERT INTO api_keys(name, key_id, scope, salt, hash, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!s) return Error{s.error()};
  s->bind(1, r.name).bind(2, r.key_id).bind(3, r.scope).bind_blob(4, r.salt).bind_blob(5, r.hash);
  s->bind(6, r.created_at).bind(7, r.created_by);
  return s->run();
}

Result<std::optional<ApiKeyRecord>> ApiKeyStore::find_by_key_id(const std::string& key_id) {
  return find_one(db_, "key_id", key_id);
}

Result<std::optional<ApiKeyRecord>> ApiKeyStore::find_by_name(const std::string& name) {
  return find_one(db_, "name", name);
}

Result<std::vector<ApiKeyRecord>> ApiKeyStore::list() {
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY created_at, name");
  if (!s) return Error{s.error()};
  std::vector<ApiKeyRecord> out;
  while (true) {
    auto row = s->step();
    if (!row) return Error{row.error()};
    if (!row.value()) break;
    out.push_back(read_record(*s));
  }
  return out;
}

Result<bool> ApiKeyStore::revoke(const std::string& name, int64_t now) {
  auto s = db_.prepare("UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL");
  if (!s) return Error{s.error()};
  s->bind(1, name).bind(2, now);
  if (auto r = s->run(); !r) return Error{r.error()};
  return db_.changes() > 0;
}

}  // namespace ergw::store
