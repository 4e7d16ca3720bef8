// The job's plan: everything a trial needs that follows from the configuration and the data
// alone — the table, the encoded target, the problem type and objective, the feature columns,
// the splits, the rows every trial is validated on, and the candidate definitions. Built by
// one function with no folder, store or thread, so another process (a worker, a reproduction)
// rebuilds the same plan from the same inputs; digest() says whether two plans agree.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/candidates.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/labels.h"
#include "tabpilot/automl/validation_predictions.h"
#include "tabpilot/data/profile.h"
#include "tabpilot/data/split.h"
#include "tabpilot/data/table.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {

// Fewer rows with a target than this is an InputError.
inline constexpr size_t kMinRows = 20;
// Above this many training rows, memory rules: one trial at a time with every core, the
// features of one recipe at a time, at most 10 one-hot columns per categorical, no refit.
inline constexpr size_t kLargeRows = 200000;

struct JobPlan {
  JobConfig config;  // as resolved: cv_folds is the fold count used (0: hold-out)
  // The rows with a target value; shared, so that the refit's plan needs no copy.
  std::shared_ptr<const Table> table;
  Task task = Task::kRegression;
  bool task_detected = true;
  EncodedTarget target;  // y, labels and the training-file row of each kept row
  Metric objective = Metric::kMSE;
  std::vector<std::string> features;  // input columns, training order
  std::vector<ColumnType> feature_types;
  DataProfile profile;  // with the job's warnings (few rows, dropped targets, ...)
  nlohmann::json target_json;
  std::string train_sha256;  // of the training file

  std::vector<Split> splits;        // k folds, or one hold-out split
  std::vector<size_t> valid_rows;   // every trial's validation rows, in out-of-fold order
  std::vector<int64_t> valid_pos;   // table row -> position in valid_rows (-1: none)
  std::vector<CandidateDefinition> candidates;
  std::vector<size_t> recipe_of;    // candidate -> feature recipe (candidates share recipes)
  size_t recipe_count = 0;
  bool large = false;               // training rows above kLargeRows

  int num_classes() const {
    return is_classification(task) ? static_cast<int>(target.labels.size()) : 1;
  }
  // The targets of valid_rows, in that order.
  std::vector<float> valid_y() const;
  // Predictions on valid_rows with their training-file rows and true labels.
  ValidationPredictions validation_predictions(std::vector<float> pred) const;
  // Every reported metric of predictions against y ({"MSE": ..., "R2": ...}).
  nlohmann::json metrics_of(const std::vector<float>& y, const std::vector<float>& pred) const;
  // The candidate of that name, or -1.
  int candidate_index(const std::string& name) const;
  // Trial seeds: trial i of a job with seed s uses mix(s, i); fold f of it mix(that, f).
  uint64_t trial_seed(int index) const;
  // SHA-256 over everything above that decides a trial's score (not the config's bookkeeping
  // such as threads): two processes with equal digests train identical trials.
  std::string digest() const;
};

uint64_t mix_seed(uint64_t a, uint64_t b);

// Checks a configuration before any file is read: InputError naming the option.
void check_job_config(const JobConfig& config);

// Reads the training file and builds the plan; InputError for bad data (the file, line or
// column named). `ingest` receives the reading time and size when given.
struct IngestTimings {
  double seconds = 0;
  size_t rows = 0, bytes = 0;
};
JobPlan build_plan(const JobConfig& config, IngestTimings* ingest = nullptr);

// The refit's plan: the same data and candidates, one split that trains on every row and
// validates on none.
JobPlan refit_plan(const JobPlan& plan);

}  // namespace tabpilot
