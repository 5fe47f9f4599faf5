#include "gateway/store/revision_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>

namespace ergw::store {

std::string origin_name(Origin origin) {
  switch (origin) {
    case Origin::api: return "api";
    case Origin::file: return "file";
    case Origin::rollback: return "rollback";
    case Origin::confirm_expired: return "confirm-expired";
  }
  return "api";
}

namespace {

constexpr const char* kRevisionColumns =
    "id, parent, created_at, author, comment, origin, content_hash, outcome, reverted_at, reverted_why";

RevisionInfo read_info(const Statement& s) {
  RevisionInfo info;
  info.id = s.column_int(0);
  info.parent = s.column_optional_int(1);
  info.created_at = s.column_int(2);
  info.author = s.column_text(3);
  info.comment = s.column_text(4);
  info.origin = s.column_text(5);
  info.content_hash = s.column_text(6);
  info.outcome = s.column_text(7);
  info.reverted_at = s.column_optional_int(8);
  info.reverted_why = s.column_text(9);
  return info;
}

std::string hex(const unsigned char* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<Head> read_head(Database& db) {
  auto s = db.prepare("SELECT active, pending, fallback, deadline FROM head WHERE one = 1");
  if (!s) return Error{s.error()};
  auto row = s->step();
  if (!row) return Error{row.error()};
  Head head;
  if (row.value()) {
    head.active = s->column_optional_int(0);
    head.pending = s->column_optional_int(1);
    head.fallback = s->column_optional_int(2);
    head.confirm_deadline = s->column_optional_int(3);
  }
  return head;
}

Result<std::optional<Revision>> read_revision(Database& db, RevisionId id) {
  auto s = db.prepare(std::string("SELECT ") + kRevisionColumns + ", document FROM revisions WHERE id = ?1");
  if (!s) return Error{s.error()};
  s->bind(1, id);
  auto row = s->step();
  if (!row) return Error{row.error()};
  if (!row.value()) return std::optional<Revision>();
  Revision revision;
  revision.info = read_info(*s);
  revision.document = s->column_text(10);
  return std::optional<Revision>(std::move(revision));
}

Result<std::vector<RevisionInfo>> read_revisions(Database& db) {
  auto s = db.prepare(std::string("SELECT ") + kRevisionColumns + " FROM revisions ORDER BY id DESC");
  if (!s) return Error{s.error()};
  std::vector<RevisionInfo> out;
  while (true) {
    auto row = s->step();
    if (!row) return Error{row.error()};
    if (!row.value()) break;
    out.push_back(read_info(*s));
  }
  return out;
}

Result<std::vector<std::string>> read_changed_secrets(Database& db, RevisionId from, RevisionId to) {
  auto s = db.prepare(
      "SELECT a.connection FROM revision_secrets a LEFT JOIN revision_secrets b "
      "ON b.revision = ?2 AND b.connection = a.connection WHERE a.revision = ?1 AND "
      "(b.value IS NULL OR b.value != a.value) "
      "UNION SELECT b.connection FROM revision_secrets b LEFT JOIN revision_secrets a "
      "ON a.revision = ?1 AND a.connection = b.connection WHERE b.revision = ?2 AND a.value IS NULL "
      "ORDER BY 1");
  if (!s) return Error{s.error()};
  s->bind(1, from).bind(2, to);
  std::vector<std::string> out;
  while (true) {
    auto row = s->step();
    if (!row) return Error{row.error()};
    if (!row.value()) break;
    out.push_back(s->column_text(0));
  }
  return out;
}

RevisionStore::RevisionStore(Database& db, RevisionStoreOptions options) : db_(db), options_(options) {
  if (options_.keep < 3) options_.keep = 3;  // active, fallback and one more
}

Result<Head> RevisionStore::head() { return read_head(db_); }

Status RevisionStore::write_head(const Head& head) {
  auto s = db_.prepare("UPDATE head SET active = ?1, pending = ?2, fallback = ?3, deadline = ?4 WHERE one = 1");
  if (!s) return Error{s.error()};
  s->bind(1, head.active).bind(2, head.pending).bind(3, head.fallback).bind(4, head.confirm_deadline);
  return s->run();
}

Result<std::string> RevisionStore::hmac_key() {
  if (!hmac_key_.empty()) return hmac_key_;
  auto select = db_.prepare("SELECT value FROM meta WHERE key = 'secret_hmac_key'");
  if (!select) return Error{select.error()};
  auto row = select->step();
  if (!row) return Error{row.error()};
  if (row.value()) {
    hmac_key_ = select->column_text(0);
    return hmac_key_;
  }
  std::array<unsigned char, 32> key{};
  if (RAND_bytes(key.data(), key.size()) != 1) return Error{"store: no randomness for the secret hash key"};
  std::string value(reinterpret_cast<const char*>(key.data()), key.size());
  OPENSSL_cleanse(key.data(), key.size());
  auto insert = db_.prepare("INSERT INTO meta(key, value) VALUES ('secret_hmac_key', ?1)");
  if (!insert) return Error{insert.error()};
  insert->bind_blob(1, value);
  if (auto s = insert->run(); !s) return Error{s.error()};
  hmac_key_ = std::move(value);
  return hmac_key_;
}

Result<std::string> RevisionStore::content_hash(const std::string& document, const SecretMap& secrets) {
  auto key = hmac_key();
  if (!key) return Error{key.error()};
  std::string material = document;
  material.push_back('\0');
  for (const auto& [name, secret] : secrets) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
         reinterpret_cast<const unsigned char*>(secret.reveal().data()), secret.reveal().size(), mac, &mac_size);
    material += name;
    material.push_back('\0');
    material.append(reinterpret_cast<const char*>(mac), mac_size);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(material.data(), material.size(), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_cleanse(material.data(), material.size());
  return "sha256:" + hex(digest, digest_size);
}

Result<RevisionId> RevisionStore::commit(const NewRevision& revision, std::optional<int64_t> confirm_deadline) {
  auto hash = content_hash(revision.document, revision.secrets);
  if (!hash) return Error{hash.error()};
  auto transaction = Transaction::begin(db_);
  if (!transaction) return Error{transaction.error()};
  auto head = read_head(db_);
  if (!head) return Error{head.error()};
  if (head->pending) {
    return Error{"revision " + std::to_string(*head->pending) + " is waiting for its confirmation"};
  }
  auto insert = db_.prepare(
      "INSERT INTO revisions(parent, created_at, author, comment, origin, content_hash, export_hash, document) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!insert) return Error{insert.error()};
  insert->bind(1, head->active)
      .bind(2, unix_now())
      .bind(3, revision.author)
      .bind(4, revision.comment)
      .bind(5, origin_name(revision.origin))
      .bind(6, hash.value())
      .bind(7, revision.export_hash)
      .bind(8, revision.document);
  if (auto s = insert->run(); !s) return Error{s.error()};
  const RevisionId id = db_.last_insert_id();
  for (const auto& [connection, secret] : revision.secrets) {
    auto add = db_.prepare("INSERT INTO revision_secrets(revision, connection, value) VALUES (?1, ?2, ?3)");
    if (!add) return Error{add.error()};
    add->bind(1, id).bind(2, connection).bind_blob(3, secret.reveal());
    if (auto s = add->run(); !s) return Error{s.error()};
  }
  Head next;
  next.active = id;
  if (confirm_deadline) {
    next.pending = id;
    next.fallback = head->active;
    next.confirm_deadline = confirm_deadline;
  }
  if (auto s = write_head(next); !s) return Error{s.error()};
  if (auto s = prune(); !s) return Error{s.error()};
  if (auto s = transaction->commit(); !s) return Error{s.error()};
  return id;
}

Status RevisionStore::confirm() {
  auto transaction = Transaction::begin(db_);
  if (!transaction) return Error{transaction.error()};
  auto head = read_head(db_);
  if (!head) return Error{head.error()};
  if (!head->pending) return Error{"no revision is waiting for a confirmation"};
  Head next;
  next.active = head->active;
  if (auto s = write_head(next); !s) return s;
  if (auto s = prune(); !s) return s;
  return transaction->commit();
}

Result<RevisionId> RevisionStore::revert_pending(const std::string& why, int64_t now) {
  auto transaction = Transaction::begin(db_);
  if (!transaction) return Error{transaction.error()};
  auto head = read_head(db_);
  if (!head) return Error{head.error()};
  if (!head->pending) return Error{"no revision is waiting for a confirmation"};
  auto mark = db_.prepare("UPDATE revisions SET reverted_at = ?2, reverted_why = ?3 WHERE id = ?1");
  if (!mark) return Error{mark.error()};
  mark->bind(1, *head->pending).bind(2, now).bind(3, why);
  if (auto s = mark->run(); !s) return Error{s.error()};
  Head next;
  next.active = head->fallback;
  if (auto s = write_head(next); !s) return Error{s.error()};
  if (auto s = transaction->commit(); !s) return Error{s.error()};
  // An empty store before the first revision has no fallback: 0 means "none".
  return head->fallback.value_or(0);
}

Status RevisionStore::revert_to(RevisionId failed, RevisionId back_to, const std::string& why, int64_t now) {
  auto transaction = Transaction::begin(db_);
  if (!transaction) return Error{transaction.error()};
  auto mark = db_.prepare("UPDATE revisions SET reverted_at = ?2, reverted_why = ?3 WHERE id = ?1");
  if (!mark) return Error{mark.error()};
  mark->bind(1, failed).bind(2, now).bind(3, why);
  if (auto s = mark->run(); !s) return s;
  Head next;
  if (back_to != 0) next.active = back_to;
  if (auto s = write_head(next); !s) return s;
  return transaction->commit();
}

Status RevisionStore::set_outcome(RevisionId id, const std::string& outcome) {
  auto s = db_.prepare("UPDATE revisions SET outcome = ?2 WHERE id = ?1");
  if (!s) return Error{s.error()};
  s->bind(1, id).bind(2, outcome);
  return s->run();
}

Result<std::optional<Revision>> RevisionStore::get(RevisionId id) { return read_revision(db_, id); }

Result<std::vector<RevisionInfo>> RevisionStore::list() { return read_revisions(db_); }

Result<SecretMap> RevisionStore::secrets(RevisionId id) {
  auto s = db_.prepare("SELECT connection, value FROM revision_secrets WHERE revision = ?1");
  if (!s) return Error{s.error()};
  s->bind(1, id);
  SecretMap out;
  while (true) {
    auto row = s->step();
    if (!row) return Error{row.error()};
    if (!row.value()) break;
    std::string value = s->column_text(1);
    out.emplace(s->column_text(0), policy::Secret(value));
    OPENSSL_cleanse(value.data(), value.size());
  }
  return out;
}

Result<std::optional<RevisionId>> RevisionStore::revision_with_export(const std::string& export_hash) {
  auto s = db_.prepare("SELECT MAX(id) FROM revisions WHERE export_hash = ?1");
  if (!s) return Error{s.error()};
  s->bind(1, export_hash);
  auto row = s->step();
  if (!row) return Error{row.error()};
  return row.value() ? s->column_optional_int(0) : std::nullopt;
}

Status RevisionStore::prune() {
  // Inside the caller's transaction: the newest `keep` revisions stay, and so
  // do whatever the head points at.
  auto s = db_.prepare(
      "DELETE FROM revisions WHERE id NOT IN (SELECT id FROM revisions ORDER BY id DESC LIMIT ?1) "
      "AND id NOT IN (SELECT active FROM head WHERE active IS NOT NULL "
      "UNION SELECT pending FROM head WHERE pending IS NOT NULL "
      "UNION SELECT fallback FROM head WHERE fallback IS NOT NULL)");
  if (!s) return Error{s.error()};
  s->bind(1, static_cast<int64_t>(options_.keep));
  return s->run();
}

}  // namespace ergw::store
