#include "tabpilot/store/postgres_store.h"

#include <libpq-fe.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <thread>

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"

namespace tabpilot {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int64_t kSchemaLock = 0x7461627069;  // "tabpi": serializes schema creation

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tabpilot_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tabpilot_jobs (
  job TEXT PRIMARY KEY,
  doc TEXT,
  created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS tabpilot_meta (
  job TEXT NOT NULL REFERENCES tabpilot_jobs(job),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (job, key));
CREATE SEQUENCE IF NOT EXISTS tabpilot_version_seq;
CREATE TABLE IF NOT EXISTS tabpilot_trials (
  id BIGSERIAL PRIMARY KEY,
  job TEXT NOT NULL REFERENCES tabpilot_jobs(job),
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  candidate TEXT NOT NULL,
  learner TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')),
  params TEXT NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',
  objective DOUBLE PRECISION,
  created_at DOUBLE PRECISION NOT NULL,
  started_at DOUBLE PRECISION,
  finished_at DOUBLE PRECISION,
  error TEXT NOT NULL DEFAULT '',
  info TEXT NOT NULL DEFAULT '{}',
  owner TEXT NOT NULL DEFAULT '',
  heartbeat_at DOUBLE PRECISION,
  version BIGINT NOT NULL,
  UNIQUE (job, idx),
  UNIQUE (job, name));
CREATE INDEX IF NOT EXISTS tabpilot_trials_state ON tabpilot_trials (job, state, id);
CREATE INDEX IF NOT EXISTS tabpilot_trials_version ON tabpilot_trials (job, version);
CREATE TABLE IF NOT EXISTS tabpilot_intermediate (
  trial_id BIGINT NOT NULL REFERENCES tabpilot_trials(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  value DOUBLE PRECISION,
  PRIMARY KEY (trial_id, step));
CREATE TABLE IF NOT EXISTS tabpilot_artifacts (
  job TEXT NOT NULL REFERENCES tabpilot_jobs(job),
  trial TEXT NOT NULL,
  file TEXT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (job, trial, file));
)sql";

constexpr const char* kTrialColumns =
    "id, name, candidate, learner, state, params, metrics, objective, created_at, started_at, "
    "finished_at, error, info, idx, owner, heartbeat_at, version";

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A parameter in text format (null when empty), or raw bytes in binary format.
struct Param {
  std::optional<std::string> value;
  bool binary = false;
};
Param P(const std::string& s) { return {s, false}; }
Param P(const char* s) { return {std::string(s), false}; }
Param P(int64_t v) { return {std::to_string(v), false}; }
Param P(int v) { return {std::to_string(v), false}; }
Param P(double v) {
  if (std::isnan(v)) return {"NaN", false};
  if (std::isinf(v)) return {v > 0 ? "Infinity" : "-Infinity", false};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return {std::string(buf), false};
}
Param P(std::optional<double> v) { return v ? P(*v) : Param{std::nullopt, false}; }
Param Null() { return {std::nullopt, false}; }
Param Bytes(const std::string& b) { return {b, true}; }

// Thrown when the connection, not the statement, failed: the operation is worth retrying.
struct ConnectionLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() {
    if (r_) PQclear(r_);
  }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
  }
  int64_t int64(int row, int col) const { return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }
  double real(int row, int col) const {
    return null(row, col) ? 0.0 : std::strtod(PQgetvalue(r_, row, col), nullptr);
  }
  std::optional<double> optional_real(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return real(row, col);
  }
  int affected() const {
    const char* n = PQcmdTuples(r_);
    return n && *n ? std::atoi(n) : 0;
  }

 private:
  PGresult* r_;
};

nlohmann::json parse(const std::string& text, const char* column) {
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("postgres store: column ") + column +
                             " holds invalid JSON: " + e.what());
  }
}

TrialRecord read_trial(const Result& r, int row) {
  TrialRecord t;
  t.id = r.int64(row, 0);
  t.name = r.text(row, 1);
  t.candidate = r.text(row, 2);
  t.learner = r.text(row, 3);
  t.state = trial_state_from_string(r.text(row, 4));
  t.params = parse(r.text(row, 5), "params");
  t.metrics = parse(r.text(row, 6), "metrics");
  t.objective = r.optional_real(row, 7);
  if (t.objective && std::isnan(*t.objective)) t.objective.reset();
  t.created_at = r.real(row, 8);
  t.started_at = r.real(row, 9);
  t.finished_at = r.real(row, 10);
  t.error = r.text(row, 11);
  t.info = parse(r.text(row, 12), "info");
  t.index = static_cast<int>(r.int64(row, 13));
  t.owner = r.text(row, 14);
  t.heartbeat_at = r.real(row, 15);
  return t;
}


double retry_seconds() {
  const char* env = std::getenv("TABPILOT_STORE_RETRY_SECONDS");
  const double v = env ? std::atof(env) : 120.0;
  return v > 0 ? v : 120.0;
}

}  // namespace

// One libpq connection; operations that lose it are retried with backoff.
class PostgresStore::Connection {
 public:
  explicit Connection(std::string url) : url_(std::move(url)) { connect(); }
  ~Connection() {
    if (conn_) PQfinish(conn_);
  }

  // Runs `fn` (which issues statements through exec), again from the start after a lost
  // connection, with backoff, for retry_seconds().
  template <class F>
  auto retrying(F&& fn) {
    const auto give_up =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(retry_seconds()));
    double wait = 0.2;
    for (;;) {
      try {
        return fn();
      } catch (const ConnectionLost& e) {
        if (std::chrono::steady_clock::now() > give_up)
          throw std::runtime_error("postgres store " + redact_url(url_) +
                                   ": the connection is lost and did not come back: " + e.what());
        log::warn("postgres store: connection lost (" + std::string(e.what()) +
                  "); retrying in " + std::to_string(wait).substr(0, 4) + " s");
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        wait = std::min(wait * 2, 5.0);
        reconnect();
      }
    }
  }

  // `fn` inside BEGIN ... COMMIT (rolled back when it throws), retried as a whole.
  template <class F>
  auto transaction(F&& fn) {
    return transaction("BEGIN", std::forward<F>(fn));
  }
  // Reads in one snapshot: several statements see the same committed state (read committed,
  // the default, gives each statement its own).
  template <class F>
  auto snapshot(F&& fn) {
    return transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", std::forward<F>(fn));
  }

  template <class F>
  auto transaction(const char* begin, F&& fn) {
    return retrying([&] {
      exec(begin);
      try {
        if constexpr (std::is_void_v<decltype(fn())>) {
          fn();
          exec("COMMIT");
        } else {
          auto out = fn();
          exec("COMMIT");
          return out;
        }
      } catch (const ConnectionLost&) {
        throw;
      } catch (...) {
        try {
          exec("ROLLBACK");
        } catch (...) {
        }
        throw;
      }
    });
  }

  Result exec(const char* sql, const std::vector<Param>& params = {}, bool binary_result = false) {
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) throw ConnectionLost("not connected");
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const auto& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
    // Without parameters, the simple protocol: it takes several statements (the schema).
    PGresult* r = params.empty() && !binary_result
                      ? PQexec(conn_, sql)
                      : PQexecParams(conn_, sql, static_cast<int>(params.size()), nullptr,
                                     values.data(), lengths.data(), formats.data(), binary_result);
    Result result(r);
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return result;
    const std::string message = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) throw ConnectionLost(trim(message));
    const char* sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    // Class 08 (connection exception) and 57P01 (admin shutdown): the server went away.
    if (sqlstate && (std::strncmp(sqlstate, "08", 2) == 0 || std::strcmp(sqlstate, "57P01") == 0))
      throw ConnectionLost(trim(message));
    throw std::runtime_error("postgres store " + redact_url(url_) + ": " + trim(message));
  }

 private:
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  void connect() {
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = trim(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw ConnectionLost(why);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // IF NOT EXISTS notices
  }

  void reconnect() {
    if (conn_) {
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK) return;
      PQfinish(conn_);
      conn_ = nullptr;
    }
    try {
      connect();
    } catch (const ConnectionLost&) {
      // The next attempt reports it.
    }
  }

  std::string url_;
  PGconn* conn_ = nullptr;
};

namespace {

// Every transaction that changes a trial's version takes the job's row lock first and draws
// its version after: versions then commit in the order they were drawn, so a reader that saw
// version v has seen every version below it, and changes_since(v) misses nothing. (Without
// it, a transaction that drew 9 could commit after one that drew 10 was read.) Writes of one
// job are serialized by it; they are a few short statements per trial.
void lock_job(PostgresStore::Connection& c, const std::string& job) {
  c.exec("SELECT 1 FROM tabpilot_jobs WHERE job = $1 FOR NO KEY UPDATE", {P(job)});
}

// The state of trial `id` of `job`, its row locked until the transaction ends.
TrialState lock_trial(PostgresStore::Connection& c, const std::string& job, int64_t id) {
  Result s = c.exec("SELECT state FROM tabpilot_trials WHERE id = $1 AND job = $2 FOR UPDATE",
                    {P(id), P(job)});
  if (s.rows() == 0) throw std::out_of_range("postgres store: no trial with id " + std::to_string(id));
  return trial_state_from_string(s.text(0, 0));
}

}  // namespace

PostgresStore::PostgresStore(const std::string& url, const std::string& job)
    : url_(url), job_(job) {
  if (redact_url(url) != url)
    throw InputError("--store " + redact_url(url) +
                     ": the URL holds a password; put it in PGPASSWORD or ~/.pgpass instead "
                     "(it would end up in shell histories and job.json)");
  try {
    conn_ = std::make_unique<Connection>(url);
  } catch (const ConnectionLost& e) {
    throw InputError("--store " + redact_url(url) + ": cannot connect (" + e.what() + ")");
  }
  conn_->transaction([&] {
    conn_->exec("SELECT pg_advisory_xact_lock($1)", {P(kSchemaLock)});
    conn_->exec(kSchema);
    Result v = conn_->exec("SELECT version FROM tabpilot_schema");
    if (v.rows() == 0) {
      conn_->exec("INSERT INTO tabpilot_schema(version) VALUES ($1)", {P(kSchemaVersion)});
    } else if (v.int64(0, 0) > kSchemaVersion) {
      throw InputError("--store " + redact_url(url) + ": the database holds tabpilot schema " +
                       std::to_string(v.int64(0, 0)) + ", newer than this build reads (" +
                       std::to_string(kSchemaVersion) + "); upgrade tabpilot");
    } else if (v.int64(0, 0) < kSchemaVersion) {
      // Later versions migrate here, version by version.
      conn_->exec("UPDATE tabpilot_schema SET version = $1", {P(kSchemaVersion)});
    }
    conn_->exec(
        "INSERT INTO tabpilot_jobs(job, created_at) VALUES ($1, $2) ON CONFLICT (job) DO NOTHING",
        {P(job_), P(now_seconds())});
  });
}

PostgresStore::~PostgresStore() = default;

int PostgresStore::schema_version() { return kSchemaVersion; }

std::string PostgresStore::location() const { return redact_url(url_) + " (job " + job_ + ")"; }

void PostgresStore::put_job(const nlohmann::json& job) {
  std::lock_guard lock(mutex_);
  conn_->retrying([&] {
    conn_->exec("UPDATE tabpilot_jobs SET doc = $2 WHERE job = $1", {P(job_), P(dump(job))});
  });
}

std::optional<nlohmann::json> PostgresStore::get_job() const {
  std::lock_guard lock(mutex_);
  return conn_->retrying([&]() -> std::optional<nlohmann::json> {
    Result r = conn_->exec("SELECT doc FROM tabpilot_jobs WHERE job = $1", {P(job_)});
    if (r.rows() == 0 || r.null(0, 0)) return std::nullopt;
    return parse(r.text(0, 0), "doc");
  });
}

void PostgresStore::put_value(const std::string& key, const nlohmann::json& value) {
  std::lock_guard lock(mutex_);
  conn_->retrying([&] {
    conn_->exec(
        "INSERT INTO tabpilot_meta(job, key, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (job, key) DO UPDATE SET value = EXCLUDED.value",
        {P(job_), P(key), P(dump(value))});
  });
}

std::optional<nlohmann::json> PostgresStore::get_value(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return conn_->retrying([&]() -> std::optional<nlohmann::json> {
    Result r = conn_->exec("SELECT value FROM tabpilot_meta WHERE job = $1 AND key = $2",
                           {P(job_), P(key)});
    if (r.rows() == 0) return std::nullopt;
    return parse(r.text(0, 0), "meta.value");
  });
}

NewTrial PostgresStore::create_trial(const std::function<TrialDraft(int index)>& draft) {
  std::lock_guard lock(mutex_);
  return conn_->transaction([&] {
    lock_job(*conn_, job_);  // also one creator at a time, so numbers never repeat
    Result n = conn_->exec("SELECT COALESCE(MAX(idx), -1) + 1 FROM tabpilot_trials WHERE job = $1",
                           {P(job_)});
    NewTrial t;
    t.index = static_cast<int>(n.int64(0, 0));
    const TrialDraft d = draft(t.index);
    char number[16];
    std::snprintf(number, sizeof number, "%0*d", std::clamp(d.digits, 1, 9), t.index + 1);
    t.name = d.prefix + "-" + number;
    const double now = now_seconds();
    const bool leased = !d.owner.empty();
    Result r = conn_->exec(
        "INSERT INTO tabpilot_trials(job, idx, name, candidate, learner, state, params, "
        "created_at, started_at, owner, heartbeat_at, version) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8, $9, $10, $11, nextval('tabpilot_version_seq')) RETURNING id",
        {P(job_), P(t.index), P(t.name), P(d.candidate), P(d.learner),
         P(leased ? "RUNNING" : "WAITING"), P(dump(d.params)), P(now), leased ? P(now) : Null(),
         P(d.owner), leased ? P(now) : Null()});
    t.id = r.int64(0, 0);
    return t;
  });
}

void PostgresStore::start_trial(int64_t id, const std::string& owner) {
  std::lock_guard lock(mutex_);
  conn_->transaction([&] {
    lock_job(*conn_, job_);
    const double now = now_seconds();
    Result r = conn_->exec(
        "UPDATE tabpilot_trials SET state = 'RUNNING', started_at = $3, owner = $4, "
        "heartbeat_at = $3, version = nextval('tabpilot_version_seq') "
        "WHERE id = $1 AND job = $2 AND state = 'WAITING'",
        {P(id), P(job_), P(now), P(owner)});
    if (r.affected() == 1) return;
    Result s = conn_->exec("SELECT state FROM tabpilot_trials WHERE id = $1 AND job = $2",
                           {P(id), P(job_)});
    if (s.rows() == 0)
      throw std::out_of_range("postgres store: no trial with id " + std::to_string(id));
    throw std::logic_error("postgres store: cannot start trial " + std::to_string(id) +
                           ": it is " + s.text(0, 0) + ", not WAITING");
  });
}

std::optional<TrialRecord> PostgresStore::claim_waiting(const std::string& owner) {
  std::lock_guard lock(mutex_);
  return conn_->transaction([&]() -> std::optional<TrialRecord> {
    lock_job(*conn_, job_);
    const double now = now_seconds();
    Result r = conn_->exec(
        (std::string("UPDATE tabpilot_trials SET state = 'RUNNING', started_at = $2, owner = $3, "
                     "heartbeat_at = $2, version = nextval('tabpilot_version_seq') WHERE id = "
                     "(SELECT id FROM tabpilot_trials WHERE job = $1 AND state = 'WAITING' "
                     "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ") +
         kTrialColumns)
            .c_str(),
        {P(job_), P(now), P(owner)});
    if (r.rows() == 0) return std::nullopt;
    return read_trial(r, 0);
  });
}

int PostgresStore::heartbeat(const std::string& owner) {
  std::lock_guard lock(mutex_);
  return conn_->retrying([&] {
    return conn_
        ->exec("UPDATE tabpilot_trials SET heartbeat_at = $3 WHERE job = $1 AND owner = $2 AND "
               "state = 'RUNNING'",
               {P(job_), P(owner), P(now_seconds())})
        .affected();
  });
}

void PostgresStore::report_intermediate(int64_t id, int step, double value) {
  std::lock_guard lock(mutex_);
  conn_->transaction([&] {
    lock_job(*conn_, job_);
    const TrialState state = lock_trial(*conn_, job_, id);
    if (state != TrialState::kRunning)
      throw std::logic_error("postgres store: cannot report a value for trial " +
                             std::to_string(id) + ": it is " + std::string(to_string(state)) +
                             ", not RUNNING");
    conn_->exec(
        "INSERT INTO tabpilot_intermediate(trial_id, step, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (trial_id, step) DO UPDATE SET value = EXCLUDED.value",
        {P(id), P(step), P(value)});
    conn_->exec(
        "UPDATE tabpilot_trials SET version = nextval('tabpilot_version_seq') WHERE id = $1",
        {P(id)});
  });
}

void PostgresStore::finish_trial(int64_t id, TrialState state, const nlohmann::json& metrics,
                                 std::optional<double> objective, const std::string& error,
                                 const nlohmann::json& info) {
  if (!is_finished(state))
    throw std::invalid_argument("postgres store: finish_trial needs COMPLETE, PRUNED or FAIL, got " +
                                std::string(to_string(state)));
  std::lock_guard lock(mutex_);
  conn_->transaction([&] {
    lock_job(*conn_, job_);
    const TrialState now_state = lock_trial(*conn_, job_, id);
    if (is_finished(now_state))
      throw std::logic_error("postgres store: trial " + std::to_string(id) + " is already " +
                             std::string(to_string(now_state)) + "; finished trials are immutable");
    if (now_state != TrialState::kRunning)
      throw std::logic_error("postgres store: cannot finish trial " + std::to_string(id) +
                             ": it is " + std::string(to_string(now_state)) + "; start it first");
    const std::optional<double> obj =
        objective && std::isfinite(*objective) ? objective : std::nullopt;
    conn_->exec(
        "UPDATE tabpilot_trials SET state = $2, metrics = $3, objective = $4, finished_at = $5, "
        "error = $6, info = $7, version = nextval('tabpilot_version_seq') WHERE id = $1",
        {P(id), P(std::string(to_string(state))), P(dump(metrics)), P(obj), P(now_seconds()),
         P(error), P(dump(info))});
  });
}

int PostgresStore::requeue(const std::vector<TrialRecord>& seen) {
  std::lock_guard lock(mutex_);
  return conn_->transaction([&] {
    lock_job(*conn_, job_);
    int n = 0;
    for (const TrialRecord& t : seen) {
      const int changed =
          conn_
              ->exec("UPDATE tabpilot_trials SET state = 'WAITING', started_at = NULL, owner = '', "
                     "heartbeat_at = NULL, version = nextval('tabpilot_version_seq') "
                     "WHERE id = $1 AND job = $2 AND state = 'RUNNING' AND owner = $3 AND "
                     "COALESCE(heartbeat_at, 0) <= $4",
                     {P(t.id), P(job_), P(t.owner), P(t.heartbeat_at)})
              .affected();
      if (changed == 0) continue;
      // The rerun starts from scratch, so the lost run's curve would only confuse a pruner.
      conn_->exec("DELETE FROM tabpilot_intermediate WHERE trial_id = $1", {P(t.id)});
      ++n;
    }
    return n;
  });
}

namespace {

// Trials of a query, with their curves.
std::vector<TrialRecord> read_trials(PostgresStore::Connection& c, const std::string& where,
                                     const std::vector<Param>& params) {
  Result r = c.exec(("SELECT " + std::string(kTrialColumns) + " FROM tabpilot_trials " + where +
                     " ORDER BY id")
                        .c_str(),
                    params);
  std::vector<TrialRecord> out;
  std::map<int64_t, size_t> index;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(read_trial(r, i));
    index[out.back().id] = out.size() - 1;
  }
  if (out.empty()) return out;
  Result iv = c.exec(("SELECT trial_id, step, value FROM tabpilot_intermediate WHERE trial_id IN "
                      "(SELECT id FROM tabpilot_trials " +
                      where + ") ORDER BY trial_id, step")
                         .c_str(),
                     params);
  for (int i = 0; i < iv.rows(); ++i) {
    auto it = index.find(iv.int64(i, 0));
    if (it == index.end()) continue;
    const double v = iv.null(i, 2) ? std::numeric_limits<double>::quiet_NaN() : iv.real(i, 2);
    out[it->second].intermediate.emplace_back(static_cast<int>(iv.int64(i, 1)), v);
  }
  return out;
}

}  // namespace

std::optional<TrialRecord> PostgresStore::trial(int64_t id) const {
  std::lock_guard lock(mutex_);
  return conn_->snapshot([&]() -> std::optional<TrialRecord> {
    auto t = read_trials(*conn_, "WHERE job = $1 AND id = $2", {P(job_), P(id)});
    if (t.empty()) return std::nullopt;
    return t.front();
  });
}

std::vector<TrialRecord> PostgresStore::trials() const {
  std::lock_guard lock(mutex_);
  return conn_->snapshot([&] { return read_trials(*conn_, "WHERE job = $1", {P(job_)}); });
}

std::vector<TrialRecord> PostgresStore::trials_in(TrialState state) const {
  std::lock_guard lock(mutex_);
  return conn_->snapshot([&] {
    return read_trials(*conn_, "WHERE job = $1 AND state = $2",
                       {P(job_), P(std::string(to_string(state)))});
  });
}

TrialChanges PostgresStore::changes_since(int64_t cursor) const {
  std::lock_guard lock(mutex_);
  return conn_->snapshot([&] {
    TrialChanges out;
    out.trials = read_trials(*conn_, "WHERE job = $1 AND version > $2", {P(job_), P(cursor)});
    out.cursor = cursor;
    Result v = conn_->exec("SELECT COALESCE(MAX(version), 0) FROM tabpilot_trials WHERE job = $1",
                           {P(job_)});
    out.cursor = std::max(cursor, v.int64(0, 0));
    return out;
  });
}

void PostgresStore::put_artifacts(const std::string& trial, const ArtifactFiles& files) {
  check_store_name(trial, "trial");
  for (const auto& [name, bytes] : files) check_store_name(name, "artifact");
  std::lock_guard lock(mutex_);
  conn_->transaction([&] {
    conn_->exec("DELETE FROM tabpilot_artifacts WHERE job = $1 AND trial = $2", {P(job_), P(trial)});
    for (const auto& [name, bytes] : files)
      conn_->exec("INSERT INTO tabpilot_artifacts(job, trial, file, data) VALUES ($1, $2, $3, $4)",
                  {P(job_), P(trial), P(name), Bytes(bytes)});
  });
}

std::optional<ArtifactFiles> PostgresStore::get_artifacts(const std::string& trial) const {
  check_store_name(trial, "trial");
  std::lock_guard lock(mutex_);
  return conn_->retrying([&]() -> std::optional<ArtifactFiles> {
    Result r = conn_->exec("SELECT file, data FROM tabpilot_artifacts WHERE job = $1 AND trial = $2",
                           {P(job_), P(trial)}, /*binary_result=*/true);
    if (r.rows() == 0) return std::nullopt;
    ArtifactFiles files;
    for (int i = 0; i < r.rows(); ++i) files[r.text(i, 0)] = r.text(i, 1);
    return files;
  });
}

std::optional<std::string> PostgresStore::get_artifact(const std::string& trial,
                                                       const std::string& file) const {
  check_store_name(trial, "trial");
  check_store_name(file, "artifact");
  std::lock_guard lock(mutex_);
  return conn_->retrying([&]() -> std::optional<std::string> {
    Result r = conn_->exec(
        "SELECT data FROM tabpilot_artifacts WHERE job = $1 AND trial = $2 AND file = $3",
        {P(job_), P(trial), P(file)}, /*binary_result=*/true);
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  });
}

void PostgresStore::remove_artifacts(const std::string& trial) {
  check_store_name(trial, "trial");
  std::lock_guard lock(mutex_);
  conn_->retrying([&] {
    conn_->exec("DELETE FROM tabpilot_artifacts WHERE job = $1 AND trial = $2", {P(job_), P(trial)});
  });
}

std::vector<std::string> PostgresStore::artifact_trials() const {
  std::lock_guard lock(mutex_);
  return conn_->retrying([&] {
    Result r = conn_->exec(
        "SELECT DISTINCT trial FROM tabpilot_artifacts WHERE job = $1 ORDER BY trial", {P(job_)});
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

void PostgresStore::clear() {
  std::lock_guard lock(mutex_);
  conn_->transaction([&] {
    conn_->exec("DELETE FROM tabpilot_artifacts WHERE job = $1", {P(job_)});
    conn_->exec("DELETE FROM tabpilot_trials WHERE job = $1", {P(job_)});
    conn_->exec("DELETE FROM tabpilot_meta WHERE job = $1", {P(job_)});
    conn_->exec("UPDATE tabpilot_jobs SET doc = NULL WHERE job = $1", {P(job_)});
  });
}

std::unique_ptr<TrialStore> open_store(const std::string& spec, const std::filesystem::path& job_dir,
                                       const std::string& job) {
  if (spec.empty()) return open_job_store(job_dir);
  if (is_postgres_url(spec)) return std::make_unique<PostgresStore>(spec, job);
  throw InputError("--store '" + spec +
                   "': expected a postgresql:// URL (without --store, the job folder's SQLite file)");
}

}  // namespace tabpilot
