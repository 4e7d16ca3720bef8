#include "tabpilot/store/sqlite_store.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/store/sqlite_stmt.h"

namespace tabpilot {
namespace {

// Bump when the schema changes; older files are migrated (SqliteStore::migrate), newer ones
// refused. 2: trial numbers (idx) and leases (owner, heartbeat_at). 3: the change counter
// (version) that incremental readers follow.
constexpr int kSchemaVersion = 3;
namespace fs = std::filesystem;
constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS job(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials(
  id INTEGER PRIMARY KEY,
  idx INTEGER,
  name TEXT NOT NULL UNIQUE,
  candidate TEXT NOT NULL,
  learner TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')),
  params TEXT NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',
  objective REAL,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  error TEXT NOT NULL DEFAULT '',
  info TEXT NOT NULL DEFAULT '{}',
  owner TEXT NOT NULL DEFAULT '',
  heartbeat_at REAL,
  version INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS trials_by_candidate ON trials(candidate, state);
CREATE INDEX IF NOT EXISTS trials_by_version ON trials(version);
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS intermediate(
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  step INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (trial_id, step)) WITHOUT ROWID;
)sql";

constexpr const char* kTrialColumns =
    "SELECT id, name, candidate, learner, state, params, metrics, objective, created_at, "
    "started_at, finished_at, error, info, idx, owner, heartbeat_at FROM trials";

// The next value of the change counter, read inside the writer's transaction (SQLite has one
// writer at a time, so counters commit in order).
int64_t next_version(sqlite3* db, const std::string& path) {
  sqlite::Stmt q(db, path, "SELECT COALESCE(MAX(version), 0) + 1 FROM trials");
  q.step();
  return q.int64(0);
}

// Marks trial `id` changed.
void touch(sqlite3* db, const std::string& path, int64_t id) {
  const int64_t v = next_version(db, path);
  sqlite::Stmt q(db, path, "UPDATE trials SET version = ? WHERE id = ?");
  q.bind(1, v).bind(2, id).run();
}

// The number at the end of "dpp1-xgboost-007" less one (6), or -1: the index of trials
// written before the store kept one.
int index_from_name(const std::string& name) {
  size_t end = name.size(), begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(name[begin - 1]))) --begin;
  if (begin == end || begin == 0 || name[begin - 1] != '-' || end - begin > 9) return -1;
  return std::stoi(name.substr(begin)) - 1;
}


double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Invalid UTF-8 in a message must not make recording a trial fail.
std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse(const std::string& text, const std::string& path, const char* column) {
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("store " + path + ": column " + column +
                             " holds invalid JSON: " + e.what());
  }
}

TrialRecord read_trial(const sqlite::Stmt& q, const std::string& path) {
  TrialRecord r;
  r.id = q.int64(0);
  r.name = q.text(1);
  r.candidate = q.text(2);
  r.learner = q.text(3);
  r.state = trial_state_from_string(q.text(4));
  r.params = parse(q.text(5), path, "params");
  r.metrics = parse(q.text(6), path, "metrics");
  r.objective = q.optional_real(7);
  r.created_at = q.real(8);
  r.started_at = q.real(9);
  r.finished_at = q.real(10);
  r.error = q.text(11);
  r.info = parse(q.text(12), path, "info");
  r.index = q.is_null(13) ? index_from_name(r.name) : static_cast<int>(q.int64(13));
  r.owner = q.text(14);
  r.heartbeat_at = q.real(15);
  return r;
}

// SQLite stores NaN as NULL; give it back as NaN so a diverged step stays visible.
double read_value(const sqlite::Stmt& q, int col) {
  return q.is_null(col) ? std::numeric_limits<double>::quiet_NaN() : q.real(col);
}

// The state of trial `id`; throws std::out_of_range when there is none.
TrialState state_of(sqlite3* db, const std::string& path, int64_t id) {
  sqlite::Stmt q(db, path, "SELECT state FROM trials WHERE id = ?");
  q.bind(1, id);
  if (!q.step())
    throw std::out_of_range("store " + path + ": no trial with id " + std::to_string(id));
  return trial_state_from_string(q.text(0));
}

}  // namespace

SqliteStore::SqliteStore(const fs::path& path, const fs::path& artifacts_dir)
    : path_(path.string()), artifacts_(artifacts_dir) {
  int rc =
      sqlite3_open_v2(path_.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  try {
    if (rc != SQLITE_OK) sqlite::fail(db_, path_, "cannot open");
    sqlite3_extended_result_codes(db_, 1);
    if (sqlite3_busy_timeout(db_, kBusyTimeoutMs) != SQLITE_OK)
      sqlite::fail(db_, path_, "cannot set busy_timeout");
    {
      sqlite::Stmt q(db_, path_, "PRAGMA journal_mode=WAL");
      std::string mode = q.step() ? q.text(0) : "";
      // An in-memory database reports "memory"; anything else means the file system
      // refused WAL, which still works, only with readers blocking the writer.
      if (mode != "wal" && mode != "memory")
        log::warn("store " + path_ + ": journal_mode is '" + mode + "', not WAL");
    }
    sqlite::exec(db_, path_, "PRAGMA synchronous=NORMAL");
    sqlite::exec(db_, path_, "PRAGMA foreign_keys=ON");

    sqlite::WriteTxn txn(db_, path_);
    sqlite::Stmt v(db_, path_, "PRAGMA user_version");
    int version = v.step() ? static_cast<int>(v.int64(0)) : 0;
    if (version > kSchemaVersion)
      throw std::runtime_error("store " + path_ + ": schema version " + std::to_string(version) +
                               " is newer than this build reads (" +
                               std::to_string(kSchemaVersion) + "); upgrade tabpilot");
    if (version < kSchemaVersion) {
      migrate(version);
      sqlite::exec(db_, path_, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    }
    txn.commit();
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

int SqliteStore::schema_version() { return kSchemaVersion; }

// Inside the opening transaction. Version 0 is a new file; 1 lacks trial numbers and leases.
void SqliteStore::migrate(int from_version) {
  if (from_version == 1 || from_version == 2)
    sqlite::exec(db_, path_, "ALTER TABLE trials ADD COLUMN version INTEGER NOT NULL DEFAULT 0");
  if (from_version == 1) {
    sqlite::exec(db_, path_, "ALTER TABLE trials ADD COLUMN idx INTEGER");
    sqlite::exec(db_, path_, "ALTER TABLE trials ADD COLUMN owner TEXT NOT NULL DEFAULT ''");
    sqlite::exec(db_, path_, "ALTER TABLE trials ADD COLUMN heartbeat_at REAL");
    // Version 1 kept the number only in the name ("dpp1-xgboost-007").
    std::vector<std::pair<int64_t, int>> numbers;
    {
      sqlite::Stmt q(db_, path_, "SELECT id, name FROM trials");
      while (q.step()) numbers.emplace_back(q.int64(0), index_from_name(q.text(1)));
    }
    for (const auto& [id, index] : numbers) {
      if (index < 0) continue;
      sqlite::Stmt u(db_, path_, "UPDATE trials SET idx = ? WHERE id = ?");
      u.bind(1, static_cast<int64_t>(index)).bind(2, id).run();
    }
  }
  sqlite::exec(db_, path_, kSchema);  // IF NOT EXISTS: creates what a new file lacks
}

SqliteStore::~SqliteStore() {
  if (db_) sqlite3_close_v2(db_);
}

void SqliteStore::put_job(const nlohmann::json& job) {
  std::lock_guard lock(mutex_);
  sqlite::Stmt q(db_, path_, "INSERT OR REPLACE INTO job(id, doc) VALUES (1, ?)");
  q.bind(1, dump(job)).run();
}

std::optional<nlohmann::json> SqliteStore::get_job() const {
  std::lock_guard lock(mutex_);
  sqlite::Stmt q(db_, path_, "SELECT doc FROM job WHERE id = 1");
  if (!q.step()) return std::nullopt;
  return parse(q.text(0), path_, "job.doc");
}

void SqliteStore::put_value(const std::string& key, const nlohmann::json& value) {
  std::lock_guard lock(mutex_);
  sqlite::Stmt q(db_, path_, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
  q.bind(1, key).bind(2, dump(value)).run();
}

std::optional<nlohmann::json> SqliteStore::get_value(const std::string& key) const {
  std::lock_guard lock(mutex_);
  sqlite::Stmt q(db_, path_, "SELECT value FROM meta WHERE key = ?");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  return parse(q.text(0), path_, "meta.value");
}

NewTrial SqliteStore::create_trial(const std::function<TrialDraft(int index)>& draft) {
  std::lock_guard lock(mutex_);
  // BEGIN IMMEDIATE: the number is read and used under the write lock, so two processes on
  // one file never take the same one.
  sqlite::WriteTxn txn(db_, path_);
  NewTrial t;
  {
    sqlite::Stmt q(db_, path_, "SELECT COALESCE(MAX(idx), -1) + 1 FROM trials");
    q.step();
    t.index = static_cast<int>(q.int64(0));
  }
  const TrialDraft d = draft(t.index);
  char number[16];
  std::snprintf(number, sizeof number, "%0*d", std::clamp(d.digits, 1, 9), t.index + 1);
  t.name = d.prefix + "-" + number;
  const double now = now_seconds();
  const int64_t version = next_version(db_, path_);
  sqlite::Stmt q(db_, path_,
                 "INSERT INTO trials(idx, name, candidate, learner, state, params, created_at, "
                 "started_at, owner, heartbeat_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, static_cast<int64_t>(t.index)).bind(2, t.name).bind(3, d.candidate).bind(4, d.learner);
  q.bind(5, d.owner.empty() ? "WAITING" : "RUNNING").bind(6, dump(d.params)).bind(7, now);
  if (d.owner.empty()) {
    q.bind_null(8).bind(9, "").bind_null(10);
  } else {
    q.bind(8, now).bind(9, d.owner).bind(10, now);
  }
  q.bind(11, version).run();
  t.id = sqlite3_last_insert_rowid(db_);
  txn.commit();
  return t;
}

void SqliteStore::start_trial(int64_t id, const std::string& owner) {
  std::lock_guard lock(mutex_);
  sqlite::WriteTxn txn(db_, path_);
  TrialState s = state_of(db_, path_, id);
  if (s != TrialState::kWaiting)
    throw std::logic_error("store " + path_ + ": cannot start trial " + std::to_string(id) +
                           ": it is " + std::string(to_string(s)) + ", not WAITING");
  const double now = now_seconds();
  sqlite::Stmt q(db_, path_,
                 "UPDATE trials SET state = 'RUNNING', started_at = ?, owner = ?, "
                 "heartbeat_at = ?, version = ? WHERE id = ?");
  q.bind(1, now).bind(2, owner).bind(3, now).bind(4, next_version(db_, path_)).bind(5, id).run();
  txn.commit();
}

std::optional<TrialRecord> SqliteStore::claim_waiting(const std::string& owner) {
  std::lock_guard lock(mutex_);
  sqlite::WriteTxn txn(db_, path_);  // the write lock: no other process claims meanwhile
  int64_t id = 0;
  {
    sqlite::Stmt q(db_, path_, "SELECT id FROM trials WHERE state = 'WAITING' ORDER BY id LIMIT 1");
    if (!q.step()) return std::nullopt;
    id = q.int64(0);
  }
  const double now = now_seconds();
  sqlite::Stmt u(db_, path_,
                 "UPDATE trials SET state = 'RUNNING', started_at = ?, owner = ?, "
                 "heartbeat_at = ?, version = ? WHERE id = ?");
  u.bind(1, now).bind(2, owner).bind(3, now).bind(4, next_version(db_, path_)).bind(5, id).run();
  sqlite::Stmt r(db_, path_, (std::string(kTrialColumns) + " WHERE id = ?").c_str());
  r.bind(1, id);
  r.step();
  TrialRecord rec = read_trial(r, path_);
  txn.commit();
  return rec;
}

int SqliteStore::heartbeat(const std::string& owner) {
  std::lock_guard lock(mutex_);
  sqlite::Stmt q(db_, path_,
                 "UPDATE trials SET heartbeat_at = ? WHERE state = 'RUNNING' AND owner = ?");
  q.bind(1, now_seconds()).bind(2, owner).run();
  return q.changes();
}

void SqliteStore::report_intermediate(int64_t id, int step, double value) {
  std::lock_guard lock(mutex_);
  sqlite::WriteTxn txn(db_, path_);
  TrialState s = state_of(db_, path_, id);
  if (s != TrialState::kRunning)
    throw std::logic_error("store " + path_ + ": cannot report a value for trial " +
                           std::to_string(id) + ": it is " + std::string(to_string(s)) +
                           ", not RUNNING");
  // A step reported twice keeps the latest value: a learner may re-evaluate a step.
  sqlite::Stmt q(db_, path_,
                 "INSERT OR REPLACE INTO intermediate(trial_id, step, value) VALUES (?, ?, ?)");
  q.bind(1, id).bind(2, static_cast<int64_t>(step)).bind(3, value).run();
  touch(db_, path_, id);
  txn.commit();
}

void SqliteStore::finish_trial(int64_t id, TrialState state, const nlohmann::json& metrics,
                         std::optional<double> objective, const std::string& error,
                         const nlohmann::json& info) {
  if (!is_finished(state))
    throw std::invalid_argument("store " + path_ +
                                ": finish_trial needs COMPLETE, PRUNED or "
                                "FAIL, got " +
                                std::string(to_string(state)));
  std::lock_guard lock(mutex_);
  sqlite::WriteTxn txn(db_, path_);
  TrialState s = state_of(db_, path_, id);
  if (is_finished(s))
    throw std::logic_error("store " + path_ + ": trial " + std::to_string(id) + " is already " +
                           std::string(to_string(s)) + "; finished trials are immutable");
  if (s != TrialState::kRunning)
    throw std::logic_error("store " + path_ + ": cannot finish trial " + std::to_string(id) +
                           ": it is " + std::string(to_string(s)) + "; start it first");
  sqlite::Stmt q(db_, path_,
                 "UPDATE trials SET state = ?, metrics = ?, objective = ?, finished_at = ?, "
                 "error = ?, info = ? WHERE id = ?");
  q.bind(1, to_string(state)).bind(2, dump(metrics));
  if (objective && std::isfinite(*objective)) {
    q.bind(3, *objective);
  } else {
    q.bind_null(3);  // NaN would be stored as NULL anyway; say so explicitly
  }
  q.bind(4, now_seconds()).bind(5, error).bind(6, dump(info)).bind(7, id).run();
  touch(db_, path_, id);
  txn.commit();
}

int SqliteStore::requeue(const std::vector<TrialRecord>& seen) {
  std::lock_guard lock(mutex_);
  sqlite::WriteTxn txn(db_, path_);
  int n = 0;
  for (const TrialRecord& t : seen) {
    sqlite::Stmt q(db_, path_,
                   "UPDATE trials SET state = 'WAITING', started_at = NULL, owner = '', "
                   "heartbeat_at = NULL WHERE id = ? AND state = 'RUNNING' AND owner = ? AND "
                   "COALESCE(heartbeat_at, 0) <= ?");
    q.bind(1, t.id).bind(2, t.owner).bind(3, t.heartbeat_at).run();
    if (q.changes() == 0) continue;
    // The rerun starts from scratch, so the lost run's curve would only confuse a pruner.
    sqlite::Stmt del(db_, path_, "DELETE FROM intermediate WHERE trial_id = ?");
    del.bind(1, t.id).run();
    touch(db_, path_, t.id);
    ++n;
  }
  txn.commit();
  return n;
}

std::optional<TrialRecord> SqliteStore::trial(int64_t id) const {
  std::lock_guard lock(mutex_);
  sqlite::ReadTxn txn(db_, path_);
  sqlite::Stmt q(db_, path_, (std::string(kTrialColumns) + " WHERE id = ?").c_str());
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  TrialRecord r = read_trial(q, path_);
  sqlite::Stmt iv(db_, path_,
                  "SELECT step, value FROM intermediate WHERE trial_id = ? ORDER BY step");
  iv.bind(1, id);
  while (iv.step()) r.intermediate.emplace_back(static_cast<int>(iv.int64(0)), read_value(iv, 1));
  return r;
}

namespace {

// The trials `where` selects (one parameter, bound by `bind`), in id order, with their curves.
std::vector<TrialRecord> select_trials(sqlite3* db, const std::string& path,
                                       const std::string& where,
                                       const std::function<void(sqlite::Stmt&)>& bind) {
  std::vector<TrialRecord> out;
  std::map<int64_t, size_t> index;
  sqlite::Stmt q(db, path, (std::string(kTrialColumns) + " " + where + " ORDER BY id").c_str());
  bind(q);
  while (q.step()) {
    out.push_back(read_trial(q, path));
    index[out.back().id] = out.size() - 1;
  }
  if (out.empty()) return out;
  sqlite::Stmt iv(db, path,
                  ("SELECT intermediate.trial_id, intermediate.step, intermediate.value FROM "
                   "intermediate JOIN trials ON trials.id = intermediate.trial_id " +
                   where + " ORDER BY intermediate.trial_id, intermediate.step")
                      .c_str());
  bind(iv);
  while (iv.step()) {
    auto it = index.find(iv.int64(0));
    if (it != index.end())
      out[it->second].intermediate.emplace_back(static_cast<int>(iv.int64(1)), read_value(iv, 2));
  }
  return out;
}

}  // namespace

std::vector<TrialRecord> SqliteStore::trials() const {
  std::lock_guard lock(mutex_);
  sqlite::ReadTxn txn(db_, path_);
  return select_trials(db_, path_, "", [](sqlite::Stmt&) {});
}

std::vector<TrialRecord> SqliteStore::trials_in(TrialState state) const {
  std::lock_guard lock(mutex_);
  sqlite::ReadTxn txn(db_, path_);
  return select_trials(db_, path_, "WHERE state = ?",
                       [&](sqlite::Stmt& q) { q.bind(1, to_string(state)); });
}

TrialChanges SqliteStore::changes_since(int64_t cursor) const {
  std::lock_guard lock(mutex_);
  sqlite::ReadTxn txn(db_, path_);
  TrialChanges out;
  out.trials = select_trials(db_, path_, "WHERE version > ?",
                             [&](sqlite::Stmt& q) { q.bind(1, cursor); });
  sqlite::Stmt v(db_, path_, "SELECT COALESCE(MAX(version), 0) FROM trials");
  v.step();
  out.cursor = std::max(cursor, v.int64(0));
  return out;
}

fs::path SqliteStore::artifact_dir(const std::string& trial) const {
  check_store_name(trial, "trial");
  return artifacts_ / trial;
}

void SqliteStore::put_artifacts(const std::string& trial, const ArtifactFiles& files) {
  const fs::path dir = artifact_dir(trial);
  const fs::path tmp = artifacts_ / (trial + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  for (const auto& [name, bytes] : files) {
    check_store_name(name, "artifact");
    std::ofstream out(tmp / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw std::runtime_error("store: cannot write " + (tmp / name).string());
  }
  // The old set goes only once the new one is complete; a kill in between leaves the old one
  // or the new one (and at worst a stale .tmp, replaced next time).
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

std::optional<ArtifactFiles> SqliteStore::get_artifacts(const std::string& trial) const {
  const fs::path dir = artifact_dir(trial);
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return std::nullopt;
  ArtifactFiles files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    files[e.path().filename().string()] = read_file(e.path());
  }
  return files;
}

std::optional<std::string> SqliteStore::get_artifact(const std::string& trial,
                                                     const std::string& file) const {
  check_store_name(file, "artifact");
  const fs::path path = artifact_dir(trial) / file;
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(path, ec))) return std::nullopt;
  return read_file(path);
}

void SqliteStore::remove_artifacts(const std::string& trial) {
  std::error_code ec;
  fs::remove_all(artifact_dir(trial), ec);
}

std::vector<std::string> SqliteStore::artifact_trials() const {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(artifacts_, ec)) return out;
  for (const auto& e : fs::directory_iterator(artifacts_, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && e.path().extension() != ".tmp") out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void SqliteStore::clear() {
  {
    std::lock_guard lock(mutex_);
    sqlite::WriteTxn txn(db_, path_);
    sqlite::exec(db_, path_, "DELETE FROM intermediate");
    sqlite::exec(db_, path_, "DELETE FROM trials");
    sqlite::exec(db_, path_, "DELETE FROM meta");
    sqlite::exec(db_, path_, "DELETE FROM job");
    txn.commit();
  }
  for (const auto& t : artifact_trials()) remove_artifacts(t);
}

std::unique_ptr<TrialStore> open_job_store(const fs::path& job_dir) {
  return std::make_unique<SqliteStore>(job_dir / kStoreFileName, job_dir / kArtifactsDirName);
}

}  // namespace tabpilot
