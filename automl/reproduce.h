// Re-running one trial of a finished job from its job folder alone: same data, same split,
// same features, same hyperparameters and seed -> the same validation score. What
// `tabpilot train --job DIR --trial NAME` does and what every candidate definition promises.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/validation_predictions.h"

namespace tabpilot {

struct ReproducedTrial {
  std::string trial, candidate, learner;
  std::string objective_metric;             // e.g. "MSE"
  std::optional<double> recorded_objective; // what the store holds (COMPLETE trials)
  double objective = 0;                     // what this run measured
  nlohmann::json metrics;                   // {"validation": {...}, "train": {...}}
  ValidationPredictions predictions;        // on the validation / out-of-fold rows
  double seconds = 0;
};

// Throws InputError when the folder is not a job, the trial is unknown (listing a few known
// names), or the training file named in job.json is gone or changed (checked by SHA-256).
// threads 0: as many as the trial had.
ReproducedTrial reproduce_trial(const std::string& job_dir, const std::string& trial_name,
                                int threads = 0);

}  // namespace tabpilot
