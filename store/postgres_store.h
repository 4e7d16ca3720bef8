// The PostgreSQL backend of TrialStore: the store many workers on many machines share
// (Optuna's RDB storage and Katib work this way). One database holds many jobs, each keyed by
// its name. Trial numbers are handed out under a row lock on the job, a WAITING trial is
// claimed with FOR UPDATE SKIP LOCKED (two workers never get one trial), artifacts live in the
// database (no shared file system needed), and the schema version is checked at connect
// (older schemas migrated, newer refused). A lost connection (a server restart) is retried
// with backoff for TABPILOT_STORE_RETRY_SECONDS (default 120) before an operation fails.
//
// The URL is libpq's (postgresql://user@host:port/db?sslmode=...); a password in it is
// refused: it goes in PGPASSWORD or ~/.pgpass, never on a command line or in job.json.
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "tabpilot/store/trial_store.h"

struct pg_conn;

namespace tabpilot {

// Whether `spec` names a PostgreSQL store (postgresql:// or postgres://).
bool is_postgres_url(const std::string& spec);
// The URL with any password removed, for messages and job.json.
std::string redact_url(const std::string& url);

class PostgresStore final : public TrialStore {
 public:
  // Connects, creates or migrates the schema, and registers `job` (a job name). Throws
  // InputError for a password in the URL, an unreachable server or a newer schema.
  PostgresStore(const std::string& url, const std::string& job);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  std::string location() const override;
  void put_job(const nlohmann::json& job) override;
  std::optional<nlohmann::json> get_job() const override;
  void put_value(const std::string& key, const nlohmann::json& value) override;
  std::optional<nlohmann::json> get_value(const std::string& key) const override;
  using TrialStore::create_trial;
  NewTrial create_trial(const std::function<TrialDraft(int index)>& draft) override;
  void start_trial(int64_t id, const std::string& owner) override;
  std::optional<TrialRecord> claim_waiting(const std::string& owner) override;
  int heartbeat(const std::string& owner) override;
  void report_intermediate(int64_t id, int step, double value) override;
  void finish_trial(int64_t id, TrialState state, const nlohmann::json& metrics,
                    std::optional<double> objective, const std::string& error,
                    const nlohmann::json& info) override;
  int requeue(const std::vector<TrialRecord>& seen) override;
  std::optional<TrialRecord> trial(int64_t id) const override;
  std::vector<TrialRecord> trials() const override;
  std::vector<TrialRecord> trials_in(TrialState state) const override;
  TrialChanges changes_since(int64_t cursor) const override;
  void put_artifacts(const std::string& trial, const ArtifactFiles& files) override;
  std::optional<ArtifactFiles> get_artifacts(const std::string& trial) const override;
  std::optional<std::string> get_artifact(const std::string& trial,
                                          const std::string& file) const override;
  void remove_artifacts(const std::string& trial) override;
  std::vector<std::string> artifact_trials() const override;

  void clear() override;
  static int schema_version();

  class Connection;  // libpq, with retries (postgres_store.cpp)

 private:
  std::string url_, job_;
  std::unique_ptr<Connection> conn_;
  mutable std::mutex mutex_;  // one connection, one statement at a time
};

// The store a job's configuration names: `spec` empty is the SQLite file of the job folder,
// a postgresql:// URL that server's database (the job keyed by `job`).
std::unique_ptr<TrialStore> open_store(const std::string& spec,
                                       const std::filesystem::path& job_dir,
                                       const std::string& job);

}  // namespace tabpilot
