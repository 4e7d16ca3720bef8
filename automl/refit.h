// The refit of a hold-out job's best trial: the trial was trained on 80% of the rows; the same
// candidate and hyperparameters, with the rounds or epochs its early stopping chose
// (LearnerInfo::refit_params), usually do better on all of them. Through train_trial on a plan
// with one all-rows split, like every other trial.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/job_plan.h"
#include "tabpilot/common/stop_token.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot {

struct RefitResult {
  bool done = false;
  // {"done": true, "rows", "params", "seconds"} or {"done": false, "reason"}.
  nlohmann::json info;
  std::vector<PipelineMember> members;  // the refit model, when done
};

// The candidate's learner on every row of `plan` with `params` sized from `fit_info` (the
// trial's split-0 fit_info) and the trial's seed. Not done (the caller keeps the trial's
// model) when the stop token fires during it or training fails.
RefitResult refit_trial(const JobPlan& plan, size_t candidate, const Params& params,
                        const nlohmann::json& fit_info, uint64_t seed, int threads,
                        const StopToken& stop);

}  // namespace tabpilot
