#include "tabpilot/automl/refit.h"

#include <chrono>

#include "tabpilot/automl/trial.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {

RefitResult refit_trial(const JobPlan& plan, size_t candidate, const Params& params,
                        const nlohmann::json& fit_info, uint64_t seed, int threads,
                        const StopToken& stop) {
  RefitResult r;
  const auto t0 = std::chrono::steady_clock::now();
  const LearnerInfo& info = learner_info(plan.candidates[candidate].learner);
  TrialSpec spec;
  spec.candidate = candidate;
  spec.params = info.refit_params ? info.refit_params(params, fit_info) : params;
  spec.seed = seed;
  const JobPlan all = refit_plan(plan);
  FeatureCache features(all, false);
  TrialEnv env;
  env.threads = threads;
  env.stop = stop;
  TrialOutcome out = train_trial(all, features, spec, env);
  if (out.status != TrialStatus::kComplete) {
    r.info = {{"done", false}, {"reason", "refit failed: " + out.reason}};
    return r;
  }
  if (stop.should_stop()) {
    r.info = {{"done", false}, {"reason", "cut by the time limit; the trial's model is kept"}};
    return r;
  }
  r.done = true;
  r.members = std::move(out.members);
  r.info = {{"done", true},
            {"rows", plan.table->num_rows},
            {"params", spec.params},
            {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  return r;
}

}  // namespace tabpilot
