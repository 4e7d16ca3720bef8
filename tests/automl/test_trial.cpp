// The one trial function: its many-trials form agrees with it trial by trial, pruning and
// failures come back as outcomes, and scores are the means over the splits.
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_paths.h"
#include "tabpilot/automl/trial.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

JobPlan penguins_plan(const std::vector<std::string>& learners) {
  JobConfig c;
  c.train_path = testing::test_data("penguins/train.csv").string();
  c.target = "species";
  c.learners = learners;
  return build_plan(c);
}

TrialSpec spec_for(const JobPlan& plan, size_t cand, int index, Params overrides = {}) {
  TrialSpec s;
  s.candidate = cand;
  s.name = plan.candidates[cand].name + "-" + std::to_string(index + 1);
  s.params = default_params(learner_params(plan.candidates[cand].learner));
  for (const auto& [k, v] : overrides.items()) s.params[k] = v;
  s.seed = plan.trial_seed(index);
  return s;
}

TEST(Trial, ScoresAreTheMeanOverFoldsAndOutOfFoldPredictionsCoverEveryRow) {
  const JobPlan plan = penguins_plan({"linear"});
  FeatureCache cache(plan, false);
  const TrialOutcome out = train_trial(plan, cache, spec_for(plan, 0, 0), TrialEnv{});
  ASSERT_EQ(out.status, TrialStatus::kComplete) << out.reason;
  ASSERT_EQ(out.members.size(), plan.splits.size());
  ASSERT_EQ(out.metrics["fold_objectives"].size(), plan.splits.size());
  double mean = 0;
  for (const auto& v : out.metrics["fold_objectives"]) mean += v.get<double>();
  mean /= static_cast<double>(plan.splits.size());
  EXPECT_NEAR(out.objective, mean, 1e-12);
  EXPECT_EQ(out.oof.size(), plan.valid_rows.size() * 3);
  for (size_t r = 0; r < plan.valid_rows.size(); ++r) {
    double s = 0;
    for (int c = 0; c < 3; ++c) s += out.oof[r * 3 + c];
    EXPECT_NEAR(s, 1.0, 1e-4) << "row " << r << " has no out-of-fold prediction";
  }
}

// On the CPU a batch trains its trials one after another: each trial's score must equal what
// the single-trial form gives it with the same seed.
TEST(Trial, BatchFormAgreesWithTheSingleFormTrialByTrial) {
  const JobPlan plan = penguins_plan({"mlp"});
  FeatureCache cache(plan, false);
  std::vector<TrialSpec> specs;
  for (int i = 0; i < 3; ++i)
    specs.push_back(spec_for(plan, 0, i, {{"max_epochs", 8}, {"width", 16 + 8 * i}}));
  const auto batch = train_trial_batch(plan, cache, specs, TrialEnv{});
  ASSERT_EQ(batch.size(), 3u);
  for (size_t i = 0; i < specs.size(); ++i) {
    const TrialOutcome single = train_trial(plan, cache, specs[i], TrialEnv{});
    ASSERT_EQ(batch[i].status, TrialStatus::kComplete) << batch[i].reason;
    EXPECT_EQ(batch[i].objective, single.objective) << "trial " << i;
    EXPECT_EQ(batch[i].oof, single.oof) << "trial " << i;
  }
}

TEST(Trial, APrunedTrialStopsAtOnceAndSaysWhy) {
  const JobPlan plan = penguins_plan({"xgboost"});
  FeatureCache cache(plan, false);
  TrialEnv env;
  int calls = 0;
  env.report = [&](int step, double) -> std::optional<std::string> {
    ++calls;
    if (step == 3) return "not in the top third at step 3";
    return std::nullopt;
  };
  const TrialOutcome out = train_trial(plan, cache, spec_for(plan, 0, 0), env);
  EXPECT_EQ(out.status, TrialStatus::kPruned);
  EXPECT_EQ(out.reason, "not in the top third at step 3");
  EXPECT_EQ(calls, 4);  // fold 0, rounds 0..3, then nothing more
  EXPECT_TRUE(out.members.empty());
}

TEST(Trial, ALearnerErrorFailsTheTrialWithItsMessage) {
  const JobPlan plan = penguins_plan({"linear"});
  FeatureCache cache(plan, false);
  const TrialOutcome out = train_trial(plan, cache, spec_for(plan, 0, 0, {{"l2", -1.0}}), TrialEnv{});
  EXPECT_EQ(out.status, TrialStatus::kFailed);
  EXPECT_NE(out.reason.find("l2"), std::string::npos) << out.reason;
}

}  // namespace
}  // namespace tabpilot
