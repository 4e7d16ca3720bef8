// The SageMaker training container entry point (`docker run IMAGE train`, contract section 3):
// hyperparameters + training channel -> run_fit -> /opt/ml/model (the model folder's files)
// and /opt/ml/output/data (job.json, reports, trials.csv). Failures go to
// /opt/ml/output/failure; a SIGTERM (StopTrainingJob) sets `cancel` and the best model so far
// is still written.
#pragma once
#include <atomic>
#include <filesystem>
#include <string>

namespace tabpilot::sagemaker {

struct TrainOptions {
  std::filesystem::path opt_ml = "/opt/ml";
  // Where the job folder is built; empty: a fresh folder under the system temp dir, removed
  // after its files are copied out.
  std::filesystem::path work_dir;
  const std::atomic<bool>* cancel = nullptr;  // set by the SIGTERM handler
  int metric_poll_ms = 500;
};

// Runs the whole job and returns the exit code: 0 done (also after a stop), 2 bad input,
// 1 any other failure. Never throws; every failure is also written to <opt_ml>/output/failure.
int run_training_job(const TrainOptions& options);

// Writes `reason` to <opt_ml>/output/failure (SageMaker shows its first 1024 characters).
void write_failure(const std::filesystem::path& opt_ml, const std::string& reason);

}  // namespace tabpilot::sagemaker
