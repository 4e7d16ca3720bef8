// Runs a job's trials against its store, on this process's slots: asks for the next trial
// (one whose owner was gone first, then every candidate's defaults, then the sampler over the
// store's history), trains it through train_trial (or a batch), records the outcome, and keeps
// the ensemble pool's artifacts in the store (the pool is the store's, not any process's
// memory). The job's leader (FitJob) and its workers (tabpilot worker) each run one; the
// store is what they share.
#pragma once
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tabpilot/automl/feature_cache.h"
#include "tabpilot/automl/job_plan.h"
#include "tabpilot/automl/progress.h"
#include "tabpilot/automl/trial.h"
#include "tabpilot/automl/trial_history.h"
#include "tabpilot/common/stop_token.h"
#include "tabpilot/common/thread_annotations.h"
#include "tabpilot/store/trial_store.h"
#include "tabpilot/tuner/pruner.h"
#include "tabpilot/tuner/sampler.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot {

struct RunnerOptions {
  std::string owner;  // this worker, as leases name it (automl/lease.h)
  Progress* progress = nullptr;  // may be null
  bool log_failures = true;
};

class TrialRunner {
 public:
  // `plan` and `store` must outlive the runner. The plan's config gives the cap, the sampler,
  // pruning and the batch sizes.
  TrialRunner(const JobPlan& plan, TrialStore& store, FeatureCache& features,
              RunnerOptions options);

  // Runs trials on the slots until ask() has nothing left (the cap, job_stop, or `more`
  // returning false) and the running ones have returned.
  void run(const std::vector<Slot>& slots, const StopToken& job_stop, double per_trial_seconds);

  // Trials this runner finished, per slot index.
  std::vector<int> trials_per_slot() const;
  // Trials of the job (every worker's, ensembles left out), as of the last ask.
  int trials_created() const;

 private:
  std::optional<TrialTicket> ask();
  void run_ticket(const TrialTicket& t, const Slot& slot, const StopToken& stop);
  void add_companions(std::vector<TrialSpec>& specs, int count);
  int batch_size_for(const CandidateDefinition& cand, const Slot& slot) const;
  std::optional<std::string> report_step(int64_t id, int step, double value);
  void record(const TrialSpec& spec, TrialOutcome& out, const Slot& slot, const StopToken& stop,
              bool job_limit, double seconds, size_t batch);
  // The outcome's models and predictions into the store when the trial enters the pool, and
  // the artifacts of the trials it pushed out removed.
  void keep_artifacts(const TrialSpec& spec, TrialOutcome& out);
  void fail_trial(int64_t id, const std::string& reason);
  void trial_done(const std::string& note);

  const JobPlan& plan_;
  TrialStore& store_;
  FeatureCache& features_;
  RunnerOptions options_;
  std::unique_ptr<Sampler> sampler_;
  std::vector<const SearchSpace*> spaces_;
  std::vector<std::string> candidate_names_;
  const PrunerConfig pruner_{true, 20, 3};
  StopToken job_stop_;

  // One ask at a time: the history and the order in which trials are created.
  mutable std::mutex ask_mutex_;
  TrialHistory history_ TP_GUARDED_BY(ask_mutex_);
  int created_ TP_GUARDED_BY(ask_mutex_) = 0;

  mutable std::mutex results_mutex_;
  std::vector<int> slot_trials_ TP_GUARDED_BY(results_mutex_);
  int finished_ TP_GUARDED_BY(results_mutex_) = 0;
};

// The trials the ensemble pool holds once the COMPLETE trials of `records` are in: the best by
// objective (ties to the earlier trial), at most `limit`, at most `per_candidate` of one
// candidate; what TrialPool keeps whichever order they finished in.
std::vector<std::string> pool_members(const std::vector<TrialRecord>& records, size_t limit,
                                      size_t per_candidate, bool higher_is_better);

}  // namespace tabpilot
