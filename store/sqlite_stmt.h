// Thin RAII helpers over the SQLite3 C API for the store: a prepared statement, a write
// transaction that rolls back unless committed, and one error path that names the file.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace tabpilot::sqlite {

// Throws std::runtime_error "store PATH: WHAT: sqlite3_errmsg".
[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what);

// Runs SQL that returns no rows we need (schema, pragmas, BEGIN/COMMIT).
void exec(sqlite3* db, const std::string& path, const char* sql);

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, std::optional<double> v);  // NULL when empty
  Stmt& bind_null(int i);

  // True while a row is available; false once done. Throws on error.
  bool step();
  // For statements expected to return no rows.
  void run() { step(); }
  // Number of rows the last INSERT/UPDATE/DELETE changed.
  int changes() const;

  bool is_null(int col) const;
  int64_t int64(int col) const;
  double real(int col) const;  // 0 when NULL
  std::optional<double> optional_real(int col) const;
  std::string text(int col) const;  // "" when NULL

 private:
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock up front, so that a concurrent writer waits on
// busy_timeout instead of failing half-way with SQLITE_BUSY on lock upgrade.
class WriteTxn {
 public:
  WriteTxn(sqlite3* db, const std::string& path);
  ~WriteTxn();  // rolls back when commit() was not reached (an exception escaped)
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  void commit();

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

// A read transaction: several SELECTs see one snapshot.
class ReadTxn {
 public:
  ReadTxn(sqlite3* db, const std::string& path);
  ~ReadTxn();
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;

 private:
  sqlite3* db_;
};

}  // namespace tabpilot::sqlite
