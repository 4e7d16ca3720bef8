#include "tabpilot/store/sqlite_stmt.h"

#include <sqlite3.h>

#include <stdexcept>

#include "tabpilot/common/error.h"

namespace tabpilot::sqlite {

namespace {

// A damaged or foreign file is the user's to fix (exit 2), not an internal failure.
[[noreturn]] void throw_damaged(const std::string& path, const std::string& detail) {
  throw InputError(path + ": the trial store is damaged (" + detail +
                   "); its trials cannot be read: restore it from a copy, or run the job again "
                   "with --force");
}

bool damaged(int code) {
  code &= 0xff;  // the primary code of an extended one
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

}  // namespace

void fail(sqlite3* db, const std::string& path, std::string_view what) {
  if (db && damaged(sqlite3_extended_errcode(db))) throw_damaged(path, sqlite3_errmsg(db));
  std::string msg = "store " + path + ": " + std::string(what);
  if (db) msg += ": " + std::string(sqlite3_errmsg(db));
  throw std::runtime_error(msg);
}

void exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    if (damaged(rc)) {
      const std::string detail = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      throw_damaged(path, detail);
    }
    std::string msg = "store " + path + ": " + std::string(sql).substr(0, 40) + ": " +
                      (err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

Stmt::Stmt(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr) != SQLITE_OK)
    fail(db_, path_, "cannot prepare statement");
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) fail(db_, path_, "bind");
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) fail(db_, path_, "bind");
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    fail(db_, path_, "bind");
  return *this;
}

Stmt& Stmt::bind(int i, std::optional<double> v) { return v ? bind(i, *v) : bind_null(i); }

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) fail(db_, path_, "bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, path_, sqlite3_sql(stmt_));
}

int Stmt::changes() const { return sqlite3_changes(db_); }

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Stmt::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::optional<double> Stmt::optional_real(int col) const {
  if (is_null(col)) return std::nullopt;
  return real(col);
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

WriteTxn::WriteTxn(sqlite3* db, const std::string& path) : db_(db), path_(path) {
  exec(db_, path_, "BEGIN IMMEDIATE");
}

WriteTxn::~WriteTxn() {
  if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTxn::commit() {
  exec(db_, path_, "COMMIT");
  done_ = true;
}

ReadTxn::ReadTxn(sqlite3* db, const std::string& path) : db_(db) {
  exec(db_, path, "BEGIN DEFERRED");
}

// COMMIT of a read-only transaction cannot fail in a way worth reporting from a destructor.
ReadTxn::~ReadTxn() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }

}  // namespace tabpilot::sqlite
