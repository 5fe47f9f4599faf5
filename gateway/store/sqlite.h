// A small RAII layer over SQLite's C API: a connection, prepared statements
// with bound parameters, and transactions that roll back unless committed.
// Errors are values (ergw::Status / Result); nothing throws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ergw::store {

class Statement;

class Database {
 public:
  enum class Mode { read_write, read_only };

  // Opens (creating when read_write) the database at `path` (":memory:" for a
  // private in-memory one), with a busy timeout so that a reader and the one
  // writer never fail on a momentary lock.
  static Result<std::unique_ptr<Database>> open(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs statements that return no rows (schema, pragmas).
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  int64_t last_insert_id() const;
  int changes() const;
  // The current value of a pragma that answers with one row (journal_mode, synchronous).
  Result<std::string> pragma(std::string_view name);

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  friend class Statement;
  std::string error_text(int code) const;
  sqlite3* db_;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQL's ?1, ?2 ...
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  Statement& bind(int index, const std::optional<int64_t>& value);

  // One step: true when a row is available, false when done.
  Result<bool> step();
  // Steps to the end (for statements that return no rows).
  Status run();

  int64_t column_int(int index) const;
  std::optional<int64_t> column_optional_int(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;

 private:
  friend class Database;
  Statement(Database& db, sqlite3_stmt* statement) : db_(&db), statement_(statement) {}
  Database* db_;
  sqlite3_stmt* statement_;
  int bind_error_ = 0;
};

// BEGIN IMMEDIATE on construction (the write lock is taken at once, so a
// transaction never fails half way on a lock); ROLLBACK on destruction unless
// commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace ergw::store
