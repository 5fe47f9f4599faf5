#include "gateway/store/store_file.h"

#include <sys/stat.h>

#include <filesystem>

namespace ergw::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS revisions(
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  parent       INTEGER,
  created_at   INTEGER NOT NULL,
  author       TEXT NOT NULL,
  comment      TEXT NOT NULL,
  origin       TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  export_hash  TEXT NOT NULL,
  document     TEXT NOT NULL,
  outcome      TEXT,
  reverted_at  INTEGER,
  reverted_why TEXT);
CREATE TABLE IF NOT EXISTS revision_secrets(
  revision   INTEGER NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
  connection TEXT NOT NULL,
  value      BLOB NOT NULL,
  PRIMARY KEY(revision, connection));
CREATE TABLE IF NOT EXISTS head(
  one      INTEGER PRIMARY KEY CHECK (one = 1),
  active   INTEGER,
  pending  INTEGER,
  fallback INTEGER,
  deadline INTEGER);
INSERT OR IGNORE INTO head(one) VALUES (1);
CREATE TABLE IF NOT EXISTS api_keys(
  name       TEXT PRIMARY KEY,
  key_id     TEXT NOT NULL UNIQUE,
  scope      TEXT NOT NULL,
  salt       BLOB NOT NULL,
  hash       BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER);
)sql";

Status configure(Database& db) {
  // foreign_keys makes the secrets of a pruned revision go with it.
  if (auto s = db.exec("PRAGMA foreign_keys = ON"); !s) return s;
  if (auto s = db.exec("PRAGMA synchronous = FULL"); !s) return s;
  return Status::success();
}

}  // namespace

Result<std::unique_ptr<Database>> open_store(const std::string& path) {
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    const auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) return Error{"cannot create " + dir.string() + ": " + ec.message()};
      ::chmod(dir.c_str(), 0700);
    }
  }
  // SQLite creates the file (and later -wal and -shm with the same mode) under
  // the process umask: make that 0600 from the start.
  const mode_t old_mask = ::umask(077);
  auto db = Database::open(path, Database::Mode::read_write);
  ::umask(old_mask);
  if (!db) return Error{db.error()};
  if (!in_memory) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) ::chmod(path.c_str(), 0600);
    auto mode = db.value()->pragma("journal_mode = WAL");
    if (!mode) return Error{mode.error()};
    if (mode.value() != "wal") return Error{"the store " + path + " cannot use WAL mode (got " + mode.value() + ")"};
  }
  if (auto s = configure(*db.value()); !s) return Error{s.error()};
  if (auto s = db.value()->exec(kSchema); !s) return Error{s.error()};
  return std::move(db.value());
}

Result<std::unique_ptr<Database>> open_store_reader(const std::string& path) {
  auto db = Database::open(path, Database::Mode::read_only);
  if (!db) return Error{db.error()};
  if (auto s = db.value()->exec("PRAGMA foreign_keys = ON"); !s) return Error{s.error()};
  return std::move(db.value());
}

}  // namespace ergw::store
