// The SQLite backend of TrialStore: one file in the job folder (WAL mode: a kill never leaves
// it half-written, readers do not block the writer), artifacts as files under a folder beside
// it (<job>/trials/<name>/, replaced through a temporary folder and a rename). Thread-safe:
// one connection guarded by a mutex; several processes may share the file (SQLite's locks
// and BEGIN IMMEDIATE make each trial's number unique).
#pragma once
#include <filesystem>
#include <mutex>
#include <string>

#include "tabpilot/store/trial_store.h"

struct sqlite3;

namespace tabpilot {

class SqliteStore final : public TrialStore {
 public:
  // Opens or creates the database at `path` (schema created or migrated; a newer schema is
  // refused) with artifacts under `artifacts_dir`. Throws std::runtime_error naming the
  // path, or InputError when the file is damaged.
  SqliteStore(const std::filesystem::path& path, const std::filesystem::path& artifacts_dir);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::string location() const override { return path_; }
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

  // The schema version this build writes (PRAGMA user_version).
  static int schema_version();

 private:
  void migrate(int from_version);
  std::filesystem::path artifact_dir(const std::string& trial) const;

  sqlite3* db_ = nullptr;
  std::string path_;
  std::filesystem::path artifacts_;
  mutable std::mutex mutex_;  // guards db_ (one connection, statements run one at a time)
};

}  // namespace tabpilot
