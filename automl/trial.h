// One trial: a candidate's learner with given hyperparameters and seed, trained on every
// split of a plan and scored on each split's validation rows. train_trial is the only fold
// loop: the tuning, `tabpilot train --trial` (reproduce) and the refit (a plan with one
// all-rows split) all call it, so a reproduced score is the same code path, not a promise.
// train_trial_batch is its many-trials form (trials of a learner with LearnerInfo::fit_batch
// trained together per fold: one batched run on a GPU slot).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/feature_cache.h"
#include "tabpilot/automl/job_plan.h"
#include "tabpilot/common/stop_token.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot {

struct TrialSpec {
  int64_t id = 0;
  std::string name;
  size_t candidate = 0;  // index into plan.candidates
  Params params;
  uint64_t seed = 0;  // the trial's seed: fold f trains with mix_seed(seed, f)
};

struct TrialEnv {
  Device device;
  int threads = 1;
  StopToken stop;
  // Fold 0's learning curve (step, validation loss), for progress and pruning: a reason
  // stops the trial as PRUNED, nullopt lets it go on. Not called in a batch.
  std::function<std::optional<std::string>(int step, double value)> report;
};

enum class TrialStatus { kComplete, kPruned, kFailed };

struct TrialOutcome {
  TrialStatus status = TrialStatus::kComplete;
  std::string reason;  // why it failed or was pruned
  std::vector<PipelineMember> members;  // one per split, in split order
  std::vector<float> oof;  // predictions on plan.valid_rows (out of fold under CV)
  // {"validation": {metric: mean over splits}, "train": {...}[, "fold_objectives": [...]]}
  nlohmann::json metrics = nlohmann::json::object();
  double objective = 0;  // validation objective (mean over splits)
  nlohmann::json fit_infos = nlohmann::json::array();  // the learner's fit_info per split
  double fit_seconds = 0, predict_seconds = 0;
  size_t predicted_rows = 0;
};

TrialOutcome train_trial(const JobPlan& plan, FeatureCache& features, const TrialSpec& spec,
                         const TrialEnv& env);

// Trials of one candidate whose learner trains batches (LearnerInfo::fit_batch), sharing its
// batch_keys; each split trains them together. Failed trials fail alone.
std::vector<TrialOutcome> train_trial_batch(const JobPlan& plan, FeatureCache& features,
                                            const std::vector<TrialSpec>& specs,
                                            const TrialEnv& env);

// The outcome's members as a pipeline of the plan (schema, labels, candidate name).
std::shared_ptr<Pipeline> make_pipeline(const JobPlan& plan, const std::string& candidate,
                                        std::vector<PipelineMember> members);

}  // namespace tabpilot
