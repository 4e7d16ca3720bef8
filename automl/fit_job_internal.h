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
#include <thread>

#include "tabpilot/automl/candidates.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/automl/labels.h"
#include "tabpilot/automl/progress.h"
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
#include "tabpilot/tuner/sampler.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot::fit_detail {

namespace fs = std::filesystem;

constexpr size_t kMinRows = 20;
// Above this many training rows, memory rules: one trial at a time with every core, and the
// features of one recipe kept at a time.
constexpr size_t kLargeRows = 200000;

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
  explicit FitJob(const JobConfig& c) : config_(c), start_(Clock::now()) {}

  JobResult run();

 private:
  // ---- 1. analysis -------------------------------------------------------------------
  void analyse();

  // ---- 2. the job folder -------------------------------------------------------------
  void create_folder();

  void write_analysis();

  // ---- 3. candidates and tuning ------------------------------------------------------
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
    nlohmann::json fold_objectives = nlohmann::json::array();
    nlohmann::json fit_infos = nlohmann::json::array();
    double fit_seconds = 0, predict_seconds = 0;
    size_t predicted_rows = 0;
    std::string error;
  };

  int batch_size_for(const CandidateDefinition& cand, const Slot& slot) const;

  // Companions for a batch: the next trials of the job, sampled from the same candidate with
  // the leader's shapes (mlp_batch_keys), so that they can train as one batch.
  void add_companions(std::vector<TrialRun>& runs, size_t cand_index, int count);

  // Validation and train metrics of one fitted member; adds it to the run.
  void evaluate(TrialRun& r, std::unique_ptr<Learner> learner, const Prepared& p,
                const CandidateDefinition& cand, double fit_seconds);

  void run_trial(const TrialTicket& t, const Slot& slot, const StopToken& stop);

  void finish_run(TrialRun& r, size_t cand_index, const Slot& slot, const StopToken& stop,
                  bool job_limit, double seconds, size_t batch);

  std::string trial_name(const CandidateDefinition& cand, int index) const;

  bool better(double a, int64_t a_id, double b, int64_t b_id) const;

  void offer_best(int64_t id, const std::string& name, size_t cand_index, const Params& params,
                  uint64_t trial_seed, const nlohmann::json& fit_infos, double fit_seconds,
                  double objective, std::vector<PipelineMember> members);

  void fail_trial(int64_t id, const std::string& reason);

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
  size_t next_default_ = 0;  // candidates whose default trial has been asked for
  std::mutex best_mutex_;
  int finished_ = 0;
  std::unique_ptr<Pipeline> best_;
  int64_t best_id_ = 0;
  double best_objective_ = 0;
  std::string best_name_;
};

}  // namespace tabpilot::fit_detail
