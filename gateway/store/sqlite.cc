#include "gateway/store/sqlite.h"

#include <sqlite3.h>

namespace ergw::store {

Result<std::unique_ptr<Database>> Database::open(const std::string& path, Mode mode) {
  sqlite3* db = nullptr;
  const int flags = (mode == Mode::read_write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{"cannot open the store " + path + ": " + message};
  }
  sqlite3_extended_result_codes(db, 1);
  // The one writer holds the lock for milliseconds (a commit); wait for it
  // rather than failing.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Database>(new Database(db));
}

Database::~Database() { sqlite3_close(db_); }

std::string Database::error_text(int code) const {
  std::string text = sqlite3_errmsg(db_);
  if (text.empty() || text == "not an error") text = sqlite3_errstr(code);
  return text;
}

Status Database::exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::success();
  std::string error = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Error{"store: " + error};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr);
  if (rc != SQLITE_OK) return Error{"store: " + error_text(rc)};
  return Statement(*this, statement);
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Result<std::string> Database::pragma(std::string_view name) {
  auto statement = prepare("PRAGMA " + std::string(name));
  if (!statement) return Error{statement.error()};
  auto row = statement->step();
  if (!row) return Error{row.error()};
  if (!row.value()) return Error{"store: PRAGMA " + std::string(name) + " returned nothing"};
  return statement->column_text(0);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), statement_(other.statement_), bind_error_(other.bind_error_) {
  other.statement_ = nullptr;
}

Statement::~Statement() { sqlite3_finalize(statement_); }

Statement& Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(statement_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  const int rc = sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  const int rc = sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(statement_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Result<bool> Statement::step() {
  if (bind_error_ != 0) return Error{std::string("store: binding a parameter failed: ") + sqlite3_errstr(bind_error_)};
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error{"store: " + db_->error_text(rc)};
}

Status Statement::run() {
  while (true) {
    auto row = step();
    if (!row) return Error{row.error()};
    if (!row.value()) return Status::success();
  }
}

int64_t Statement::column_int(int index) const { return sqlite3_column_int64(statement_, index); }

std::optional<int64_t> Statement::column_optional_int(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int(index);
}

std::string Statement::column_text(int index) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(statement_, index));
  const int size = sqlite3_column_bytes(statement_, index);
  if (data == nullptr || size <= 0) return {};
  return std::string(data, static_cast<size_t>(size));
}

bool Statement::column_is_null(int index) const { return sqlite3_column_type(statement_, index) == SQLITE_NULL; }

Result<Transaction> Transaction::begin(Database& db) {
  if (auto s = db.exec("BEGIN IMMEDIATE"); !s) return Error{s.error()};
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  auto s = db_->exec("COMMIT");
  if (s) db_ = nullptr;
  return s;
}

}  // namespace ergw::store
