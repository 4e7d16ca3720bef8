#include "tabpilot/automl/trial.h"

#include <chrono>
#include <cmath>
#include <map>

#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// What a trial accumulates over its splits before the means are taken.
struct Sums {
  std::map<std::string, double> valid, train;
  nlohmann::json fold_objectives = nlohmann::json::array();
};

// Scores one fitted split of a trial on its validation rows (and at most 20,000 training
// rows: enough to show over-fitting, cheap) and adds it to the outcome.
void evaluate(const JobPlan& plan, const FoldFeatures& f, size_t split, const TrialSpec& spec,
              std::unique_ptr<Learner> learner, double fit_seconds, TrialOutcome& out,
              Sums& sums) {
  const std::string& learner_name = plan.candidates[spec.candidate].learner;
  const size_t width = static_cast<size_t>(plan.num_classes());
  out.fit_seconds += fit_seconds;
  if (f.x_valid.rows() > 0) {
    const auto t0 = Clock::now();
    std::vector<float> pred;
    learner->predict(f.x_valid.view(), pred);
    out.predict_seconds += since(t0);
    out.predicted_rows += f.x_valid.rows();
    for (float v : pred)
      if (!std::isfinite(v)) throw std::runtime_error("non-finite predictions on validation rows");
    if (out.oof.empty()) out.oof.assign(plan.valid_rows.size() * width, 0.0f);
    const auto& rows = plan.splits[split].valid;
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t pos = plan.valid_pos[rows[i]];
      if (pos < 0) continue;
      std::copy_n(pred.begin() + static_cast<std::ptrdiff_t>(i * width), width,
                  out.oof.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(pos) * width));
    }
    const nlohmann::json vm = plan.metrics_of(f.y_valid, pred);
    for (const auto& [k, v] : vm.items()) sums.valid[k] += v.get<double>();
    sums.fold_objectives.push_back(vm[std::string(to_string(plan.objective))]);
  }
  const size_t n_train = std::min<size_t>(f.x_train.rows(), 20000);
  std::vector<float> tpred;
  learner->predict(f.x_train.rows_view(0, n_train), tpred);
  if (f.x_valid.rows() == 0)  // a refit: the training rows are all there is to check
    for (float v : tpred)
      if (!std::isfinite(v)) throw std::runtime_error("non-finite predictions");
  const std::vector<float> ty(f.y_train.begin(),
                              f.y_train.begin() + static_cast<std::ptrdiff_t>(n_train));
  const nlohmann::json tm = plan.metrics_of(ty, tpred);
  for (const auto& [k, v] : tm.items()) sums.train[k] += v.get<double>();
  out.fit_infos.push_back(learner->fit_info());
  out.members.push_back({f.transform, std::move(learner), learner_name, spec.params, 0.0, spec.name});
}

// The means over the splits, as the store records them.
void summarize(const JobPlan& plan, const Sums& sums, TrialOutcome& out) {
  const double k = static_cast<double>(plan.splits.size());
  nlohmann::json metrics = {{"validation", nlohmann::json::object()},
                            {"train", nlohmann::json::object()}};
  for (const auto& [name, v] : sums.valid) metrics["validation"][name] = v / k;
  for (const auto& [name, v] : sums.train) metrics["train"][name] = v / k;
  if (plan.splits.size() > 1) metrics["fold_objectives"] = sums.fold_objectives;
  const std::string objective(to_string(plan.objective));
  out.objective = metrics["validation"].contains(objective)
                      ? metrics["validation"][objective].get<double>()
                      : std::nan("");
  out.metrics = std::move(metrics);
}

FitData fit_data(const JobPlan& plan, const FoldFeatures& f) {
  return {f.x_train.view(), &f.y_train, f.x_valid.view(), &f.y_valid, plan.task, plan.num_classes()};
}

FitContext fit_context(const TrialEnv& env) {
  FitContext ctx;
  ctx.threads = env.threads;
  ctx.device = env.device;
  ctx.stop = env.stop;
  return ctx;
}

void fail(TrialOutcome& out, const std::string& why) {
  if (out.status == TrialStatus::kFailed) return;  // the first reason stands
  out.status = TrialStatus::kFailed;
  out.reason = why;
}

}  // namespace

TrialOutcome train_trial(const JobPlan& plan, FeatureCache& features, const TrialSpec& spec,
                         const TrialEnv& env) {
  const CandidateDefinition& cand = plan.candidates[spec.candidate];
  TrialOutcome out;
  Sums sums;
  for (size_t f = 0; f < plan.splits.size(); ++f) {
    try {
      const auto held = features.get(plan.recipe_of[spec.candidate], f);
      const FoldFeatures& p = *held;
      const FitData data = fit_data(plan, p);
      FitContext ctx = fit_context(env);
      ctx.seed = mix_seed(spec.seed, f);
      std::string pruned;
      if (env.report && f == 0)  // fold 0 carries the learning curve
        ctx.report = [&env, &pruned](int step, double value) {
          const std::optional<std::string> why = env.report(step, value);
          if (!why) return true;
          pruned = *why;
          return false;
        };
      auto learner = make_learner(cand.learner);
      const auto f0 = Clock::now();
      learner->fit(data, spec.params, ctx);
      if (!pruned.empty()) {
        out.status = TrialStatus::kPruned;
        out.reason = pruned;
        return out;
      }
      evaluate(plan, p, f, spec, std::move(learner), since(f0), out, sums);
    } catch (const std::exception& e) {
      fail(out, e.what());
      return out;
    }
  }
  summarize(plan, sums, out);
  return out;
}

std::vector<TrialOutcome> train_trial_batch(const JobPlan& plan, FeatureCache& features,
                                            const std::vector<TrialSpec>& specs,
                                            const TrialEnv& env) {
  std::vector<TrialOutcome> out(specs.size());
  std::vector<Sums> sums(specs.size());
  if (specs.empty()) return out;
  const size_t cand = specs[0].candidate;
  const LearnerInfo& info = learner_info(plan.candidates[cand].learner);
  for (size_t f = 0; f < plan.splits.size(); ++f) {
    std::shared_ptr<const FoldFeatures> held;
    try {
      held = features.get(plan.recipe_of[cand], f);
    } catch (const std::exception& e) {
      for (auto& o : out) fail(o, e.what());
      break;
    }
    const FoldFeatures& p = *held;
    const FitData data = fit_data(plan, p);
    const FitContext ctx = fit_context(env);
    std::vector<size_t> alive;
    for (size_t i = 0; i < specs.size(); ++i)
      if (out[i].status != TrialStatus::kFailed) alive.push_back(i);
    if (alive.empty()) break;
    std::vector<Params> params;
    std::vector<uint64_t> seeds;
    for (size_t i : alive) params.push_back(specs[i].params), seeds.push_back(mix_seed(specs[i].seed, f));
    const auto f0 = Clock::now();
    std::vector<BatchFitResult> results;
    try {
      results = info.fit_batch ? info.fit_batch(data, params, seeds, ctx)
                               : throw std::logic_error(info.name + " does not train batches");
    } catch (const std::exception& e) {
      for (size_t i : alive) fail(out[i], e.what());
      break;
    }
    // The batch trained together: each trial is charged its share of the time.
    const double share = since(f0) / static_cast<double>(alive.size());
    for (size_t j = 0; j < alive.size(); ++j) {
      const size_t i = alive[j];
      if (!results[j].learner) {
        fail(out[i], results[j].error);
        continue;
      }
      try {
        evaluate(plan, p, f, specs[i], std::move(results[j].learner), share, out[i], sums[i]);
      } catch (const std::exception& e) {
        fail(out[i], e.what());
      }
    }
  }
  for (size_t i = 0; i < specs.size(); ++i)
    if (out[i].status == TrialStatus::kComplete) summarize(plan, sums[i], out[i]);
  return out;
}

std::shared_ptr<Pipeline> make_pipeline(const JobPlan& plan, const std::string& candidate,
                                        std::vector<PipelineMember> members) {
  auto p = std::make_shared<Pipeline>();
  p->task = plan.task;
  p->target = plan.config.target;
  p->candidate = candidate;
  p->features = plan.features;
  p->feature_types = plan.feature_types;
  p->labels = plan.target.labels;
  p->members = std::move(members);
  return p;
}

}  // namespace tabpilot
