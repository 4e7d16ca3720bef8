// Internal to automl/: the FitJob class behind run_fit, shared by fit_job.cpp (analysis,
// job folder, tuning loop, refit, results) and fit_trials.cpp (asking for trials, features
// per recipe and fold, running single trials and MLP batches, the best pipeline so far).
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <deque>
#include <thread>

#include "tabpilot/automl/candidates.h"
#include "tabpilot/automl/ensemble.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/automl/job_location.h"
#include "tabpilot/automl/labels.h"
#include "tabpilot/automl/progress.h"
#include "tabpilot/automl/reproduce.h"
#include "tabpilot/automl/validation_predictions.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/data/profile.h"
#include "tabpilot/data/split.h"
#include "tabpilot/store/store.h"
#include "tabpilot/trainer/metrics.h"
#include "tabpilot/trainer/mlp_batch.h"
#include "tabpilot/trainer/pipeline.h"
#include "tabpilot/tuner/pruner.h"
#include "tabpilot/tuner/sampler.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot::fit_detail {

namespace fs = std::filesystem;

constexpr size_t kMinRows = 20;
// Above this many training rows, memory rules: one trial at a time with every core, and the
// features of one recipe kept at a time.
constexpr size_t kLargeRows = 200000;
// Trials whose models are kept (in memory and under <job>/trials/) for ensemble selection and
// resume; on large data only the best one.
constexpr size_t kPoolSize = 20;
// ... at most this many of one candidate: a sampler that settles on one candidate would
// otherwise fill the pool with near-copies, and greedy selection needs different models.
constexpr size_t kPoolPerCandidate = 5;
inline constexpr const char* kTrialsDir = "trials";
inline constexpr const char* kEnsembleCandidate = "ensemble";

// A trial's index from its name ("dpp1-xgboost-007" -> 6), -1 when it has none.
int trial_index_from_name(const std::string& name);

// Features of one (recipe, fold): fitted on the fold's training rows only.
struct Prepared {
  std::once_flag once;
  FeatureTransform transform;
  Matrix x_train, x_valid;
  std::vector<float> y_train, y_valid;
};

inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class FitJob {
 public:
  explicit FitJob(const JobConfig& c) : config_(c), given_config_(c), start_(Clock::now()) {}
  ~FitJob() { stop_watcher(); }

  JobResult run();

  // Re-runs one trial of an existing job (reproduce.cpp): the job's own analysis, split and
  // features, the trial's hyperparameters and seed, nothing written.
  ReproducedTrial reproduce(const std::string& job_dir, const std::string& trial_name);

 private:
  // ---- 1. analysis -------------------------------------------------------------------
  void analyse();

  // ---- 2. the job folder -------------------------------------------------------------
  void create_folder();

  void write_analysis();

  // ---- 3. candidates and tuning ------------------------------------------------------
  void plan();  // splits, validation rows, candidates, feature recipes
  void tune();

  std::optional<TrialTicket> ask();

  std::shared_ptr<Prepared> prepared(size_t recipe, size_t fold, const FeatureRecipe& r);

  nlohmann::json metrics_of(const std::vector<float>& y, const std::vector<float>& pred) const;

  int num_classes() const {
    return is_classification(task_) ? static_cast<int>(encoded_.labels.size()) : 1;
  }

  // One trial, or — an MLP trial on a slot that batches — the trial and up to K-1 companions
  // that share its shapes, trained together (one strided-batched run on a GPU).
  struct TrialRun {
    int64_t id = 0;
    std::string name;
    Params params;
    uint64_t seed = 0;
    std::vector<PipelineMember> members;
    std::map<std::string, double> valid_sum, train_sum;
    std::vector<float> oof;  // predictions on valid_rows_ (out-of-fold under CV)
    nlohmann::json fold_objectives = nlohmann::json::array();
    nlohmann::json fit_infos = nlohmann::json::array();
    double fit_seconds = 0, predict_seconds = 0;
    size_t predicted_rows = 0;
    std::string error;
    std::string pruned;  // why the pruner stopped it
  };

  // ctx.report of a single trial: records the learning curve and asks the pruner at rungs.
  // Returns false (stop training) when the trial is pruned, with the reason in `pruned`.
  bool report_step(int64_t id, size_t fold, int step, double value, std::string& pruned);

  int batch_size_for(const CandidateDefinition& cand, const Slot& slot) const;

  // Companions for a batch: the next trials of the job, sampled from the same candidate with
  // the leader's shapes (mlp_batch_keys), so that they can train as one batch.
  void add_companions(std::vector<TrialRun>& runs, size_t cand_index, int count);

  // Validation and train metrics of one fitted member; adds it to the run.
  void evaluate(TrialRun& r, std::unique_ptr<Learner> learner, const Prepared& p,
                const CandidateDefinition& cand, double fit_seconds, size_t fold);

  void run_trial(const TrialTicket& t, const Slot& slot, const StopToken& stop);

  void finish_run(TrialRun& r, size_t cand_index, const Slot& slot, const StopToken& stop,
                  bool job_limit, double seconds, size_t batch);

  std::string trial_name(const CandidateDefinition& cand, int index) const;

  bool better(double a, int64_t a_id, double b, int64_t b_id) const;

  void offer_best(int64_t id, const std::string& name, size_t cand_index, const Params& params,
                  uint64_t trial_seed, const nlohmann::json& fit_infos, double fit_seconds,
                  double objective, std::vector<PipelineMember> members, std::vector<float> oof);

  void fail_trial(int64_t id, const std::string& reason);

  // ---- the pool of best trials (fit_pool.cpp) ------------------------------------------
  struct PoolEntry {
    int64_t id = 0;
    std::string name;
    size_t cand = 0;
    double objective = 0;
    std::shared_ptr<Pipeline> pipeline;
    std::vector<float> oof;
    Params params;
    uint64_t seed = 0;
    nlohmann::json fit_info;
    double fit_seconds = 0;
  };
  std::shared_ptr<Pipeline> make_pipeline(const std::string& candidate,
                                          std::vector<PipelineMember> members) const;
  void save_trial_dir(const PoolEntry& e) const;
  void load_pool_from_disk();
  void adopt_best_locked();  // best_* fields from pool_.front(); best_mutex_ held
  // Whether a trial would enter the pool (kPoolSize, kPoolPerCandidate); best_mutex_ held
  // during tuning, or before the trials start.
  bool pool_admits(size_t cand, double objective, int64_t id) const;
  // Inserts in rank order and evicts what the limits leave out; returns the evicted names.
  std::vector<std::string> pool_insert(PoolEntry e);
  // Greedy selection over the pool's validation predictions; replaces best_ by the ensemble
  // when it scores better than the best trial alone (recorded as a trial of its own).
  bool build_ensemble();
  // Predictions on valid_rows_ with their rows (in the training file) and true labels.
  ValidationPredictions validation_predictions(std::vector<float> pred) const;
  void write_validation_predictions(const std::vector<float>& pred);
  // Binary classification with F1 / accuracy / balanced accuracy: the decision threshold
  // that maximises the objective on the validation predictions (AutoGluon does the same).
  void choose_threshold(const std::vector<float>& pred);

  // ---- resume (fit_resume.cpp) ----------------------------------------------------------
  // An InProgress job folder of the same name and configuration is resumed rather than
  // refused: completed trials kept, trials that were running are run again, the time already
  // spent counts against the limit.
  bool can_resume(const nlohmann::json& job);
  void open_resumed_store();
  void start_watcher();  // external cancel + the elapsed-time heartbeat
  void stop_watcher();

  // ---- 4. refit ----------------------------------------------------------------------
  // The best trial trained on 80% of the rows; the same candidate and hyperparameters, with
  // the number of rounds / epochs its early stopping chose, usually do better on all of
  // them. Skipped (the trial's own model is kept) when the time left looks too short or the
  // refit is cut by the hard deadline.
  void refit_best();

  // ---- 5. results --------------------------------------------------------------------
  JobResult finish();

  JobResult fail(const std::string& reason);

  void write_job_json();

  JobConfig config_;
  JobConfig given_config_;  // as the user gave it (config_.cv_folds is resolved later)
  Clock::time_point start_;
  double creation_time_ = unix_now();
  std::string name_;
  fs::path job_dir_;
  Table table_;
  Task task_ = Task::kRegression;
  bool task_detected_ = true;
  EncodedTarget encoded_;
  Metric objective_ = Metric::kMSE;
  std::vector<std::string> features_;
  std::vector<ColumnType> feature_types_;
  DataProfile profile_;
  nlohmann::json target_json_;
  std::unique_ptr<Store> store_;
  std::string status_, secondary_, failure_reason_;
  std::vector<Split> splits_;
  std::vector<CandidateDefinition> candidates_;
  std::vector<std::string> recipe_keys_;
  std::vector<size_t> recipe_of_;
  std::vector<std::shared_ptr<Prepared>> prepared_;
  std::mutex prepared_mutex_;
  bool keep_one_recipe_ = false;
  std::unique_ptr<Sampler> sampler_;
  std::vector<const SearchSpace*> spaces_;  // of candidates_, for the sampler
  std::vector<std::string> candidate_names_;
  PrunerConfig pruner_config_{true, 20, 3};
  std::unique_ptr<Progress> progress_;
  std::atomic<bool> cancel_{false};
  StopToken job_stop_;   // tuning: no trial runs past it
  StopToken hard_stop_;  // the job's own limit, less a moment to write the results
  int threads_ = 1;
  size_t best_cand_ = 0;
  Params best_params_;
  nlohmann::json best_fit_info_, refit_info_;
  double best_fit_seconds_ = 0;
  uint64_t best_seed_ = 0;
  bool time_limit_reached_ = false;
  nlohmann::json timings_ = nlohmann::json::object();  // guarded by best_mutex_ once tuning starts
  std::mutex ask_mutex_;  // asked_ and trial creation: the scheduler and batch companions
  int asked_ = 0;
  std::mutex best_mutex_;
  int finished_ = 0;
  std::shared_ptr<Pipeline> best_;
  std::vector<PoolEntry> pool_;  // best first; guarded by best_mutex_
  size_t pool_limit_ = kPoolSize;
  nlohmann::json ensemble_info_, threshold_info_;
  std::vector<float> ensemble_pred_;  // the ensemble's validation predictions, when it won
  std::vector<size_t> valid_rows_;  // the rows every trial is validated on, in oof order
  std::vector<int64_t> valid_pos_;  // row -> position in valid_rows_ (-1: never validated)
  std::string train_sha256_;
  bool resuming_ = false;
  double prior_elapsed_ = 0;  // seconds spent by earlier runs of a resumed job
  std::deque<TrialRecord> requeued_;  // trials to run again first (resume)
  std::atomic<bool> stopped_{false};  // config_.cancel fired
  std::atomic<bool> watcher_done_{false};
  std::thread watcher_;
  int64_t best_id_ = 0;
  double best_objective_ = 0;
  std::string best_name_;
};

}  // namespace tabpilot::fit_detail
