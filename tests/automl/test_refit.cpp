// The refit as a function: early stopping's size carried over through the learner's registry
// entry, every row trained on, and the stop token honoured.
#include <gtest/gtest.h>

#include "support/test_paths.h"
#include "tabpilot/automl/refit.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

JobPlan auto_mpg_holdout(const std::string& learner) {
  JobConfig c;
  c.train_path = testing::test_data("auto_mpg/train.csv").string();
  c.target = "mpg";
  c.cv_folds = 0;
  c.learners = {learner};
  return build_plan(c);
}

TEST(Refit, XgboostTakesTenPercentMoreRoundsThanEarlyStoppingKept) {
  const JobPlan plan = auto_mpg_holdout("xgboost");
  const Params params = default_params(learner_params("xgboost"));
  const RefitResult r =
      refit_trial(plan, 0, params, {{"best_iteration", 9}, {"rounds", 40}}, 7, 1, StopToken());
  ASSERT_TRUE(r.done) << r.info.dump();
  EXPECT_EQ(r.info["params"]["num_round"], 11);  // (9 + 1) * 1.1
  EXPECT_EQ(r.info["rows"], plan.table->num_rows);
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].learner->fit_info()["rounds"], 11);  // no validation rows: every round
}

TEST(Refit, MlpTrainsForTheBestEpochAndLinearKeepsItsParams) {
  const JobPlan mlp = auto_mpg_holdout("mlp");
  const RefitResult m = refit_trial(mlp, 0, default_params(learner_params("mlp")),
                                    {{"best_epoch", 7}}, 3, 1, StopToken());
  ASSERT_TRUE(m.done) << m.info.dump();
  EXPECT_EQ(m.info["params"]["max_epochs"], 7);
  const JobPlan lin = auto_mpg_holdout("linear");
  const Params p = {{"l2", 0.5}, {"max_iter", 50}, {"class_weight", "none"}};
  const RefitResult l = refit_trial(lin, 0, p, nlohmann::json::object(), 3, 1, StopToken());
  ASSERT_TRUE(l.done);
  EXPECT_EQ(l.info["params"], p);
}

TEST(Refit, AStopTokenThatHasFiredKeepsTheTrialsModel) {
  const JobPlan plan = auto_mpg_holdout("xgboost");
  std::atomic<bool> cancel{true};
  const RefitResult r = refit_trial(plan, 0, default_params(learner_params("xgboost")),
                                    {{"best_iteration", 50}}, 1, 1,
                                    StopToken(std::chrono::steady_clock::time_point::max(), &cancel));
  EXPECT_FALSE(r.done);
  EXPECT_NE(r.info["reason"].get<std::string>().find("cut by the time limit"), std::string::npos);
  EXPECT_TRUE(r.members.empty());
}

}  // namespace
}  // namespace tabpilot
