// What only the SQLite backend promises: WAL, the schema version, refusing a newer schema,
// migrating a version-1 file (trial numbers from the names), a damaged file as bad input.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "support/test_paths.h"
#include "tabpilot/common/error.h"
#include "tabpilot/store/sqlite_store.h"

namespace tabpilot {
namespace {
namespace fs = std::filesystem;

// Runs SQL (or reads one value) through a second, independent connection.
std::string raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST(SqliteStore, UsesWalAndRecordsSchemaVersion) {
  const fs::path dir = testing::scratch_dir("sqlite-store");
  auto store = open_job_store(dir);
  store->create_trial(TrialDraft{"t", "c", "linear", {}});
  const std::string path = (dir / kStoreFileName).string();
  EXPECT_EQ(raw(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw(path, "PRAGMA user_version"), std::to_string(SqliteStore::schema_version()));
}

TEST(SqliteStore, RefusesANewerSchema) {
  const fs::path dir = testing::scratch_dir("sqlite-store");
  { open_job_store(dir); }
  const std::string path = (dir / kStoreFileName).string();
  raw(path, "PRAGMA user_version=99");
  try {
    open_job_store(dir);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
}

// A store written by the first schema (trial numbers only in the names) opens, gets the
// numbers from the names, and keeps counting after them.
TEST(SqliteStore, MigratesAVersionOneFile) {
  const fs::path dir = testing::scratch_dir("sqlite-store");
  const std::string path = (dir / kStoreFileName).string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v1 = R"sql(
CREATE TABLE job(id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
CREATE TABLE trials(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, candidate TEXT NOT NULL,
  learner TEXT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, metrics TEXT NOT NULL DEFAULT '{}',
  objective REAL, created_at REAL NOT NULL, started_at REAL, finished_at REAL,
  error TEXT NOT NULL DEFAULT '', info TEXT NOT NULL DEFAULT '{}');
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE intermediate(trial_id INTEGER NOT NULL REFERENCES trials(id), step INTEGER NOT NULL,
  value REAL, PRIMARY KEY (trial_id, step)) WITHOUT ROWID;
INSERT INTO trials(name, candidate, learner, state, params, objective, created_at)
  VALUES ('dpp0-xgboost-001', 'dpp0-xgboost', 'xgboost', 'COMPLETE', '{}', 1.5, 1),
         ('dpp1-linear-007', 'dpp1-linear', 'linear', 'RUNNING', '{}', NULL, 2);
PRAGMA user_version=1;
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto store = open_job_store(dir);
  const auto all = store->trials();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].index, 0);
  EXPECT_EQ(all[1].index, 6);
  EXPECT_EQ(all[1].owner, "");  // no lease: a resume requeues it
  EXPECT_EQ(store->create_trial(TrialDraft{"c", "c", "linear", {}}).index, 7);
  EXPECT_EQ(raw(path, "PRAGMA user_version"), std::to_string(SqliteStore::schema_version()));
}

TEST(SqliteStore, ADamagedFileIsBadInputSayingWhatToDo) {
  const fs::path dir = testing::scratch_dir("sqlite-store");
  std::ofstream(dir / kStoreFileName) << std::string(4096, 'x');
  try {
    open_job_store(dir);
    FAIL() << "expected a throw";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, UnopenablePathThrowsNamingIt) {
  const fs::path dir = testing::scratch_dir("sqlite-store") / "missing-dir";
  try {
    open_job_store(dir);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / kStoreFileName).string()), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tabpilot
