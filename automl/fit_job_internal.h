// Internal to automl/: FitJob, the orchestration behind run_fit. Everything a trial computes
// comes from the plan (job_plan.h) and the one trial function (trial.h); FitJob only does the
// effects: the job folder, the store, asking the sampler, running trials on slots, recording
// them, keeping the pool, and the results at the end.
//   fit_job.cpp     run(): the folder, tuning (a TrialRunner), the ensemble/threshold/refit,
//                   job.json
//   fit_resume.cpp  resuming a killed job, the pool from the store, the watcher (cancel,
//                   elapsed time, leases)
// The trials themselves run in automl/trial_runner.h, which workers on other machines share.
#pragma once
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tabpilot/automl/feature_cache.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/automl/job_location.h"
#include "tabpilot/automl/job_plan.h"
#include "tabpilot/automl/progress.h"
#include "tabpilot/automl/trial.h"
#include "tabpilot/automl/trial_pool.h"
#include "tabpilot/automl/trial_runner.h"
#include "tabpilot/store/postgres_store.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/stop_token.h"
#include "tabpilot/common/thread_annotations.h"
#include "tabpilot/store/trial_store.h"
#include "tabpilot/tuner/pruner.h"
#include "tabpilot/tuner/sampler.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot::fit_detail {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline constexpr const char* kEnsembleCandidate = kEnsembleLearner;

class FitJob {
 public:
  explicit FitJob(const JobConfig& c) : config_(c), given_config_(c), start_(Clock::now()) {}
  ~FitJob() { stop_watcher(); }

  JobResult run();

 private:
  // ---- the folder (fit_job.cpp) -------------------------------------------------------------
  // The job's name and folder from the configuration; whether an unfinished job of the same
  // settings is there to resume. InputError before anything is written.
  void locate();
  void create_folder();
  void write_analysis();

  // ---- tuning (fit_job.cpp): a TrialRunner on this process's slots --------------------------
  void tune();

  // ---- resume (fit_resume.cpp) --------------------------------------------------------------
  bool can_resume(const nlohmann::json& job);
  void open_resumed_store();
  // RUNNING trials whose owner is gone -> WAITING (the runner claims them first); at resume
  // and, while tuning, every few seconds (a worker on another machine may die).
  int requeue_abandoned();
  void start_watcher();  // outside cancel, the elapsed time, this process's leases
  void stop_watcher();

  // ---- the pool (fit_resume.cpp) ------------------------------------------------------------
  // The pool as the store holds it: its best trials by the records, their predictions read
  // now and their models when first used.
  void load_pool();

  // ---- the end (fit_job.cpp) --------------------------------------------------------------
  // The ensemble (when it beats the best trial), the decision threshold, the refit.
  bool build_ensemble();
  void refit_best();
  JobResult finish();
  JobResult fail(const std::string& reason);
  void write_job_json();

  // Set before tuning starts, then read-only.
  JobConfig config_;
  JobConfig given_config_;  // as the user gave it (the plan resolves cv_folds)
  Clock::time_point start_;
  double creation_time_ = unix_now();
  std::string name_;
  fs::path job_dir_;
  bool resuming_ = false;
  double prior_elapsed_ = 0;  // seconds spent by earlier runs of a resumed job
  IngestTimings ingest_;
  JobPlan plan_;
  std::unique_ptr<TrialStore> store_;  // thread safe itself
  std::unique_ptr<FeatureCache> features_;
  std::unique_ptr<Progress> progress_;
  int threads_ = 1;
  StopToken job_stop_;   // tuning: no trial runs past it
  StopToken hard_stop_;  // the job's own limit, less a moment to write the results
  std::atomic<bool> cancel_{false};
  std::atomic<bool> stopped_{false};  // config_.cancel fired

  std::unique_ptr<TrialRunner> runner_;
  std::atomic<bool> tuning_{false};  // the runner runs (the watcher re-queues lost trials)
  std::vector<Slot> slots_;
  nlohmann::json timings_ = nlohmann::json::object();  // set before tuning

  // After tuning (one thread): the pool, the model and what the end of the job decided.
  TrialPool pool_{kPoolSize, kPoolPerCandidate, false};
  std::shared_ptr<Pipeline> best_;
  int64_t best_id_ = 0;
  std::string best_name_;
  double best_objective_ = 0;
  bool time_limit_reached_ = false;
  JobStatus status_ = JobStatus::kInProgress;
  std::string secondary_, failure_reason_;
  nlohmann::json ensemble_info_, threshold_info_, refit_info_;
  std::vector<float> ensemble_pred_;  // the ensemble's validation predictions, when it won

  std::atomic<bool> watcher_done_{false};
  std::thread watcher_;
};

}  // namespace tabpilot::fit_detail
