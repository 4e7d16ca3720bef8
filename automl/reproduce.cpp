// reproduce_trial: one trial of a job, re-run from the job folder alone. The job's plan is
// rebuilt from job.json's configuration and the training file (checked against its SHA-256),
// and the trial runs through the same train_trial the tuning used, with its recorded
// hyperparameters and seed: a difference in the score can only come from the data, the
// hyperparameters or the seed, all of which are checked or recorded.
#include "tabpilot/automl/reproduce.h"

#include <chrono>
#include <filesystem>

#include "tabpilot/automl/feature_cache.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/automl/job_plan.h"
#include "tabpilot/automl/trial.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"

namespace tabpilot {
namespace fs = std::filesystem;

ReproducedTrial reproduce_trial(const std::string& job_dir, const std::string& trial_name,
                                int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = require_job_dir(job_dir);
  const nlohmann::json job = read_json(dir / kJobFile);
  if (!job.contains("tabpilot") || !job["tabpilot"].contains("config"))
    throw InputError(job_dir + "/" + kJobFile +
                     ": no tabpilot.config (the job was written by an older tabpilot)");
  JobConfig config = job_config_from_json(job["tabpilot"]["config"]);
  config.progress = false;
  if (!fs::exists(config.train_path))
    throw InputError(config.train_path + ": the job's training file is gone");
  std::optional<TrialRecord> rec;
  std::string known;
  for (auto& t : open_folder_store(dir, job)->trials()) {
    if (t.name == trial_name) rec = t;
    if (known.size() < 200) known += (known.empty() ? "" : ", ") + t.name;
  }
  if (!rec)
    throw InputError(job_dir + ": no trial named '" + trial_name + "' (trials: " + known + ")");
  if (rec->learner == "ensemble")
    throw InputError(trial_name + " is an ensemble of other trials; reproduce its members");

  const JobPlan plan = build_plan(config);
  const std::string sha = job["tabpilot"].value("train_sha256", "");
  if (!sha.empty() && sha != plan.train_sha256)
    throw InputError(config.train_path + ": the training file changed since the job ran " +
                     "(SHA-256 differs); the trial cannot be reproduced");
  const int cand = plan.candidate_index(rec->candidate);
  if (cand < 0)
    throw InputError(trial_name + ": candidate '" + rec->candidate +
                     "' is not generated for this data");
  if (rec->index < 0) throw InputError(trial_name + ": the trial has no number");

  TrialSpec spec;
  spec.id = rec->id;
  spec.name = rec->name;
  spec.candidate = static_cast<size_t>(cand);
  spec.params = rec->params;
  spec.seed = plan.trial_seed(rec->index);
  TrialEnv env;
  // The trial's own thread count unless the caller chose one (XGBoost's sums can differ in
  // the last bits with another count).
  env.threads = threads > 0 ? threads : rec->info.value("threads", 1);
  FeatureCache features(plan, plan.large);
  TrialOutcome out = train_trial(plan, features, spec, env);
  if (out.status == TrialStatus::kFailed)
    throw std::runtime_error(trial_name + " failed again: " + out.reason);

  ReproducedTrial r;
  r.trial = rec->name;
  r.candidate = rec->candidate;
  r.learner = rec->learner;
  r.objective_metric = std::string(to_string(plan.objective));
  r.recorded_objective = rec->objective;
  r.metrics = {{"validation", out.metrics.value("validation", nlohmann::json::object())},
               {"train", out.metrics.value("train", nlohmann::json::object())}};
  r.objective = out.objective;
  r.predictions = plan.validation_predictions(std::move(out.oof));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace tabpilot
