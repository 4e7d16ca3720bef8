// The AutoML job: analysis -> candidates -> tuning -> best pipeline, in a job folder
// (DESIGN.md, "The job folder"). Everything the CLI's fit/describe/trials/predict do.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/data/table.h"
#include "tabpilot/store/trial_store.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot {

// Autopilot cross-validates up to 50,000 rows; on a 2-core machine 5x the work per trial pays
// off only for smaller data, where a 20% hold-out is also noisiest.
inline constexpr size_t kAutoCvMaxRows = 10000;

struct JobConfig {
  std::string train_path;
  std::string target;
  std::string output_dir = "runs";
  std::string name;                  // empty: "<file stem>-<timestamp>"
  std::optional<Task> problem_type;  // empty: detected
  std::string objective;             // empty: default for the problem type
  int max_candidates = 250;
  double time_limit_s = 3600;        // whole job, wall clock, hard
  double trial_time_limit_s = 0;     // per trial; 0 = a third of the job limit
  uint64_t seed = 0;
  int threads = 0;                   // 0 = all cores
  // k >= 2: k-fold cross-validation; 0: hold-out; -1 (auto): 5 folds up to kAutoCvMaxRows
  // training rows, hold-out above.
  int cv_folds = -1;
  double validation_fraction = 0.2;
  std::vector<std::string> learners;  // empty = all
  // Where the trials live: empty, the SQLite file of the job folder; a postgresql:// URL, a
  // server that workers on other machines share (no password in it: PGPASSWORD or .pgpass).
  std::string store;
  // Column types that replace the inferred ones (--column-type NAME=TYPE).
  std::map<std::string, ColumnType> column_types;
  bool progress = true;               // live progress line / log lines
  bool overwrite = false;             // replace an existing job folder of the same name
  // Hold-out only: after tuning, refit the best trial's candidate on every row (with the
  // boosting rounds / epochs that early stopping chose). Tuning leaves 10% of the time for it.
  bool refit = true;
  // Where trials run: auto (a slot per CPU core plus one per visible GPU), cpu, or gpu (only
  // the GPU slots; an error when no GPU is visible).
  DeviceMode device = DeviceMode::kAuto;
  // MLP trials per batch: a GPU slot trains K trials that share their shapes as one
  // strided-batched run; on a CPU slot a batch trains one trial after another.
  int gpu_mlp_batch = 8;
  int cpu_mlp_batch = 1;
  int slots_per_gpu = 1;  // concurrent trials per visible GPU
  // Asynchronous successive halving of boosting rounds / MLP epochs (tuner/pruner.h).
  bool prune = true;
  // Which sampler proposes trials after the defaults (tuner/sampler.h: "tpe", "random").
  // Random is the default because it measured ahead of TPE in the suite at 60 and 300 s
  // (bench/RESULTS.md); TPE is one flag away until it wins.
  std::string sampler = "random";
  // Greedy ensemble selection (Caruana et al. 2004) over the validation predictions of the
  // best trials: 0 = off (the best single trial is the model), N = up to N selection rounds.
  int ensemble_rounds = 25;
  // What the selection climbs: "auto" (the log loss for classification objectives that count
  // hard decisions, else the objective: automl/ensemble.h) or "objective" (always the
  // job's objective).
  std::string ensemble_metric = "auto";
  // Binary: tune the decision threshold on the validation predictions (F1, accuracy and
  // balanced accuracy objectives); off = 0.5.
  bool tune_threshold = true;
  // Set from outside (a SIGTERM handler, a server shutting down): tuning stops at once, the
  // best model so far is written and the job completes as if its time limit were reached.
  const std::atomic<bool>* cancel = nullptr;
  // Seconds at the end of the time limit kept for what the caller does after the job (the
  // CLI's reports), so that the whole command ends within the limit.
  double reserve_after_s = 0;
  // Called with the job folder once data_exploration.json is written, before training starts
  // (the CLI writes the data exploration report there). An exception is logged, not fatal.
  std::function<void(const std::string& job_dir)> on_analysis_written;
};

// A time limit at or above this (inf included) means no limit: about three years, far from
// where the clock's arithmetic would overflow.
inline constexpr double kNoTimeLimit = 1e8;

// A --time-limit value as the job uses it: NaN, zero and negative values are an InputError
// naming `what`; values above kNoTimeLimit become kNoTimeLimit.
double checked_time_limit(double seconds, const std::string& what);

// SageMaker's AutoMLJobStatus values.
enum class JobStatus { kInProgress, kCompleted, kFailed, kStopped };
std::string_view to_string(JobStatus s);  // "InProgress", "Completed", "Failed", "Stopped"
JobStatus job_status_from_string(std::string_view s);

struct JobResult {
  std::string job_dir;
  JobStatus status = JobStatus::kFailed;
  std::string best_candidate;
  std::optional<double> best_objective;
  std::string failure_reason;
};

// Runs a whole job. Bad input found before the job folder exists throws InputError and
// leaves nothing behind; a failure after it exists is recorded in job.json (status
// Failed, FailureReason) and returned with status kFailed.
JobResult run_fit(const JobConfig& config);

// job.json of a job folder (DescribeAutoMLJob-like).
nlohmann::json describe_job(const std::string& job_dir);

// Leaderboard rows from the store, best first by the job objective, or by `sort_key`
// ("validation:<metric>" / "duration" / "name"), at most `top` (0 = all).
nlohmann::json list_trials(const std::string& job_dir, const std::string& sort_key = "",
                           size_t top = 0);
// The same from a store and its job document (`tabpilot trials --store URL --job NAME`, while
// the job runs on other machines).
nlohmann::json list_trials(const TrialStore& store, const nlohmann::json& job,
                           const std::string& sort_key = "", size_t top = 0);
// Formats list_trials rows: "table" (aligned text), "csv" or "json".
std::string format_trials(const nlohmann::json& rows, const std::string& format);

// Batch transform: reads `input_csv` (with or without the target), writes predictions
// (predicted_label[, probability, probability_<label>...]) to `output_csv` ("-" = stdout).
// Returns the number of rows written.
size_t predict_csv(const std::string& job_or_model_dir, const std::string& input_csv,
                   const std::string& output_csv);

}  // namespace tabpilot
