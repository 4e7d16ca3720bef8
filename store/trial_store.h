// The trial store: the only owner of a job's trial state (Optuna's Storage). Trials move
// WAITING -> RUNNING -> COMPLETE | PRUNED | FAIL and are immutable once finished. The store
// allocates trial numbers and names atomically (so several processes can create trials of
// one job), records which worker runs a trial and when it last said so (a lease), and keeps
// the artifacts of the trials the ensemble pool holds (models, validation predictions), so
// that a backend that is not a local folder can hold them too.
//
// Backends: SQLite in the job folder (store/sqlite_store.h; the default and the embedded one).
// open_job_store() is the one place a job's store is opened. tests/store/ holds a
// conformance suite that every backend must pass.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tabpilot {

enum class TrialState { kWaiting, kRunning, kComplete, kPruned, kFail };
std::string_view to_string(TrialState s);  // "WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAIL"
TrialState trial_state_from_string(std::string_view s);
bool is_finished(TrialState s);  // COMPLETE, PRUNED or FAIL

// Trial and artifact names become folder and file names (SQLite backend) and keys: one plain
// path component of letters, digits, '-', '_' and '.'; std::invalid_argument otherwise.
void check_store_name(const std::string& name, const std::string& what);

struct TrialRecord {
  int64_t id = 0;          // 1, 2, ... in creation order
  int index = -1;          // the job's trial number (0, 1, ...): its name and seed come from it
  std::string name;        // e.g. "dpp1-xgboost-007" (index 6)
  std::string candidate;   // candidate definition name, e.g. "dpp1-xgboost"
  std::string learner;
  TrialState state = TrialState::kWaiting;
  nlohmann::json params = nlohmann::json::object();
  // {"validation": {"MSE": 1.2, ...}, "train": {...}}
  nlohmann::json metrics = nlohmann::json::object();
  std::optional<double> objective;  // validation objective value, when COMPLETE
  double created_at = 0, started_at = 0, finished_at = 0;  // Unix seconds
  std::string error;       // FAIL/PRUNED reason
  nlohmann::json info = nlohmann::json::object();  // learner fit_info, timings
  std::vector<std::pair<int, double>> intermediate;  // (step, value)
  // The lease of a RUNNING trial: who runs it ("host:pid:start", automl/lease.h) and when it
  // last said so (Unix seconds). Kept after it finishes, to say who ran it.
  std::string owner;
  double heartbeat_at = 0;
};

// A new trial as the store created it.
struct NewTrial {
  int64_t id = 0;
  int index = 0;
  std::string name;
};

// What a new trial is, once its number is known (its seed, and so its parameters, follow
// from the number): name = prefix + "-" + (index + 1) in at least `digits` digits. With an
// owner it is created RUNNING, leased to that worker (no other worker can claim it between
// its creation and its start); without, WAITING.
struct TrialDraft {
  std::string prefix, candidate, learner;
  nlohmann::json params = nlohmann::json::object();
  int digits = 3;
  std::string owner;
};

// Trials changed after a cursor (TrialStore::changes_since), and the cursor to ask from next.
struct TrialChanges {
  std::vector<TrialRecord> trials;  // in id order, with their curves
  int64_t cursor = 0;
};

// A trial's artifact files: name -> bytes (model.json, member_0.xgboost.bin, ...).
using ArtifactFiles = std::map<std::string, std::string>;

class TrialStore {
 public:
  virtual ~TrialStore() = default;
  // Where it is, for messages ("runs/job/store.sqlite").
  virtual std::string location() const = 0;

  virtual void put_job(const nlohmann::json& job) = 0;  // replaces the job document
  virtual std::optional<nlohmann::json> get_job() const = 0;
  // Small named values the job keeps across runs (the seconds already spent, the config).
  virtual void put_value(const std::string& key, const nlohmann::json& value) = 0;
  virtual std::optional<nlohmann::json> get_value(const std::string& key) const = 0;

  // Creates a WAITING trial with the job's next trial number, atomically: its index is one
  // more than any trial's so far, and `draft(index)` says what it is ("dpp1-xgboost-007",
  // "ensemble-41"). Two processes never get one index. `draft` runs inside the store's
  // transaction: it must not call the store.
  virtual NewTrial create_trial(const std::function<TrialDraft(int index)>& draft) = 0;
  NewTrial create_trial(const TrialDraft& draft) {
    return create_trial([&](int) { return draft; });
  }
  // WAITING -> RUNNING, leased to `owner` from now. Throws std::logic_error otherwise.
  virtual void start_trial(int64_t id, const std::string& owner) = 0;
  // Claims the oldest WAITING trial (one whose owner was gone, re-queued) for `owner`,
  // atomically: two workers never get the same trial. nullopt when none is waiting.
  virtual std::optional<TrialRecord> claim_waiting(const std::string& owner) = 0;
  // Renews the lease of every RUNNING trial `owner` holds; returns how many.
  virtual int heartbeat(const std::string& owner) = 0;
  virtual void report_intermediate(int64_t id, int step, double value) = 0;
  // RUNNING -> COMPLETE | PRUNED | FAIL. Throws std::logic_error if it is not RUNNING.
  virtual void finish_trial(int64_t id, TrialState state, const nlohmann::json& metrics,
                            std::optional<double> objective, const std::string& error,
                            const nlohmann::json& info) = 0;
  // These RUNNING trials, as the caller saw them, back to WAITING (their owner is gone:
  // automl/lease.h decides), their learning curves dropped. A trial whose lease was renewed
  // or that changed hands since it was seen is left alone, so two workers that both judge a
  // lease lapsed never take a trial from a third that claimed it in between. Returns how
  // many changed.
  virtual int requeue(const std::vector<TrialRecord>& seen) = 0;

  virtual std::optional<TrialRecord> trial(int64_t id) const = 0;
  virtual std::vector<TrialRecord> trials() const = 0;  // in id order, with their curves
  // The trials in one state (the RUNNING ones, whose leases the workers watch), likewise.
  virtual std::vector<TrialRecord> trials_in(TrialState state) const = 0;
  // Trials created or changed (started, reported, finished, re-queued) after `cursor` (0: all):
  // what a worker's history needs to stay current at the cost of what changed, not of every
  // trial. A lease renewal is not a change. Changes are seen in the order they committed:
  // once a reader saw one, it has seen every earlier one (so nothing is ever skipped).
  virtual TrialChanges changes_since(int64_t cursor) const = 0;

  // Artifacts of a trial, replaced as a whole (readers see the old set or the new one).
  virtual void put_artifacts(const std::string& trial, const ArtifactFiles& files) = 0;
  virtual std::optional<ArtifactFiles> get_artifacts(const std::string& trial) const = 0;
  // One file of a trial's artifacts (the pool reads its small files first, the models later).
  virtual std::optional<std::string> get_artifact(const std::string& trial,
                                                  const std::string& file) const = 0;
  virtual void remove_artifacts(const std::string& trial) = 0;
  // Trials that have artifacts.
  virtual std::vector<std::string> artifact_trials() const = 0;
  // Forgets the job: every trial, value and artifact and the job document (fit --force on a
  // job the store already holds).
  virtual void clear() = 0;
};

// The store of the job folder `job_dir`: <job_dir>/store.sqlite, artifacts under
// <job_dir>/trials/<name>/. Created when missing.
std::unique_ptr<TrialStore> open_job_store(const std::filesystem::path& job_dir);

inline constexpr const char* kStoreFileName = "store.sqlite";
inline constexpr const char* kArtifactsDirName = "trials";

}  // namespace tabpilot
