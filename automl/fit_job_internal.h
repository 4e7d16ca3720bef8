// Internal to automl/: FitJob, the orchestration behind run_fit. Everything a trial computes
// comes from the plan (job_plan.h) and the one trial function (trial.h); FitJob only does the
// effects: the job folder, the store, asking the sampler, running trials on slots, recording
// them, keeping the pool, and the results at the end.
//   fit_job.cpp     run(): the folder, the tuning loop, the ensemble/threshold/refit, job.json
//   fit_trials.cpp  ask(), running one trial or a batch on a slot, recording, the pool
//   fit_resume.cpp  resuming a killed job, the watcher (cancel, elapsed time, leases)
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

inline constexpr const char* kEnsembleCandidate = "ensemble";

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

  // ---- tuning (fit_job.cpp, fit_trials.cpp) ------------------------------------------------
  void tune();
  std::optional<TrialTicket> ask();
  void run_ticket(const TrialTicket& t, const Slot& slot, const StopToken& stop);
  // Companions for a batch: the next trials of the job, sampled from the same candidate with
  // the leader's batch_keys, so that they can train as one batch.
  void add_companions(std::vector<TrialSpec>& specs, int count);
  int batch_size_for(const CandidateDefinition& cand, const Slot& slot) const;
  // Fold 0's learning curve into the store, and the pruner's verdict at its rungs.
  std::optional<std::string> report_step(int64_t id, int step, double value);
  // The outcome into the store (COMPLETE/PRUNED/FAIL) and, when complete, into the pool.
  void record(const TrialSpec& spec, TrialOutcome& out, const Slot& slot, const StopToken& stop,
              bool job_limit, double seconds, size_t batch);
  void offer_to_pool(const TrialSpec& spec, TrialOutcome& out);
  void fail_trial(int64_t id, const std::string& reason);

  // ---- resume (fit_resume.cpp) --------------------------------------------------------------
  bool can_resume(const nlohmann::json& job);
  void open_resumed_store();
  void load_pool();            // the pool's trials back from the store's artifacts
  void requeue_abandoned();    // RUNNING trials whose owner is gone -> WAITING, run first
  void start_watcher();        // outside cancel, the elapsed-time heartbeat, trial leases
  void stop_watcher();

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
  std::unique_ptr<Sampler> sampler_;
  std::vector<const SearchSpace*> spaces_;  // of plan_.candidates, for the sampler
  std::vector<std::string> candidate_names_;
  PrunerConfig pruner_config_{true, 20, 3};
  std::unique_ptr<Progress> progress_;
  int threads_ = 1;
  StopToken job_stop_;   // tuning: no trial runs past it
  StopToken hard_stop_;  // the job's own limit, less a moment to write the results
  std::atomic<bool> cancel_{false};
  std::atomic<bool> stopped_{false};  // config_.cancel fired

  // The order in which trials are created: one ask at a time.
  std::mutex ask_mutex_;
  int asked_ TP_GUARDED_BY(ask_mutex_) = 0;  // trials this job has created (the cap counts them)
  std::deque<TrialRecord> requeued_ TP_GUARDED_BY(ask_mutex_);  // to run again first (resume)

  // Results as trials finish.
  std::mutex results_mutex_;
  TrialPool pool_ TP_GUARDED_BY(results_mutex_){kPoolSize, kPoolPerCandidate, false};
  int finished_ TP_GUARDED_BY(results_mutex_) = 0;
  std::vector<Slot> slots_ TP_GUARDED_BY(results_mutex_);  // where trials run
  std::vector<int> slot_trials_ TP_GUARDED_BY(results_mutex_);  // trials finished per slot
  nlohmann::json timings_ TP_GUARDED_BY(results_mutex_) = nlohmann::json::object();

  // After tuning (one thread): the model and what the end of the job decided.
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
