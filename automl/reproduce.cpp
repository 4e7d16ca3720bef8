// reproduce_trial: one trial of a job, re-run from the job folder alone. The job's own code
// paths do the work (analysis, split, candidates, features, learner), so a difference in the
// score can only come from the data, the hyperparameters or the seed — all of which are
// checked or recorded.
#include "tabpilot/automl/fit_job_internal.h"

namespace tabpilot::fit_detail {

ReproducedTrial FitJob::reproduce(const std::string& job_dir, const std::string& trial_name) {
  const auto t0 = Clock::now();
  const fs::path dir = require_job_dir(job_dir);
  const nlohmann::json job = read_json(dir / kJobFile);
  if (!job.contains("tabpilot") || !job["tabpilot"].contains("config"))
    throw InputError(job_dir + "/" + kJobFile +
                     ": no tabpilot.config (the job was written by an older tabpilot)");
  const int threads = config_.threads;  // 0: the trial's own
  config_ = job_config_from_json(job["tabpilot"]["config"]);
  config_.threads = threads;
  config_.progress = false;
  config_.overwrite = true;  // analyse() must not refuse the existing folder; nothing is written
  config_.output_dir = dir.parent_path().string();
  config_.name = dir.filename().string();
  if (!fs::exists(config_.train_path))
    throw InputError(config_.train_path + ": the job's training file is gone");
  Store store((dir / kStoreFile).string());
  std::optional<TrialRecord> rec;
  std::string known;
  for (auto& t : store.trials()) {
    if (t.name == trial_name) rec = t;
    if (known.size() < 200) known += (known.empty() ? "" : ", ") + t.name;
  }
  if (!rec) throw InputError(job_dir + ": no trial named '" + trial_name + "' (trials: " + known + ")");
  if (rec->learner == kEnsembleCandidate)
    throw InputError(trial_name + " is an ensemble of other trials; reproduce its members");

  analyse();
  const std::string sha = job["tabpilot"].value("train_sha256", "");
  if (!sha.empty() && sha != train_sha256_)
    throw InputError(config_.train_path + ": the training file changed since the job ran " +
                     "(SHA-256 differs); the trial cannot be reproduced");
  plan();
  auto cand = std::find_if(candidates_.begin(), candidates_.end(),
                           [&](const CandidateDefinition& c) { return c.name == rec->candidate; });
  if (cand == candidates_.end())
    throw InputError(trial_name + ": candidate '" + rec->candidate + "' is not generated for this data");
  const size_t cand_index = static_cast<size_t>(cand - candidates_.begin());
  const int index = trial_index_from_name(rec->name);
  if (index < 0) throw InputError(trial_name + ": the trial name has no index");

  TrialRun r;
  r.id = rec->id;
  r.name = rec->name;
  r.params = rec->params;
  r.seed = mix_seed(config_.seed, static_cast<uint64_t>(index));
  for (size_t f = 0; f < splits_.size(); ++f) {
    auto held = prepared(recipe_of_[cand_index], f, cand->recipe);
    const Prepared& p = *held;
    FitData data{p.x_train.view(), &p.y_train, p.x_valid.view(), &p.y_valid, task_, num_classes()};
    FitContext ctx;
    // The trial's own thread count unless the caller chose one (XGBoost's sums can differ in
    // the last bits with another count).
    ctx.threads = config_.threads > 0 ? config_.threads : rec->info.value("threads", 1);
    ctx.seed = mix_seed(r.seed, f);
    auto learner = make_learner(cand->learner);
    auto f0 = Clock::now();
    learner->fit(data, r.params, ctx);
    evaluate(r, std::move(learner), p, *cand,
             std::chrono::duration<double>(Clock::now() - f0).count(), f);
  }
  const double k = static_cast<double>(splits_.size());
  ReproducedTrial out;
  out.trial = rec->name;
  out.candidate = rec->candidate;
  out.learner = rec->learner;
  out.objective_metric = std::string(to_string(objective_));
  out.recorded_objective = rec->objective;
  out.metrics = {{"validation", nlohmann::json::object()}, {"train", nlohmann::json::object()}};
  for (auto& [name, v] : r.valid_sum) out.metrics["validation"][name] = v / k;
  for (auto& [name, v] : r.train_sum) out.metrics["train"][name] = v / k;
  out.objective = out.metrics["validation"][out.objective_metric];
  out.predictions = validation_predictions(std::move(r.oof));
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

}  // namespace tabpilot::fit_detail

namespace tabpilot {

ReproducedTrial reproduce_trial(const std::string& job_dir, const std::string& trial_name,
                                int threads) {
  JobConfig c;
  c.threads = threads;
  return fit_detail::FitJob(c).reproduce(job_dir, trial_name);
}

}  // namespace tabpilot
