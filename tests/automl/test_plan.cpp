// The job plan: one pure function of the configuration and the data, so that two builds (two
// processes, a reproduction) agree; the refit's plan; the configuration checks.
#include <gtest/gtest.h>

#include "support/test_paths.h"
#include "tabpilot/automl/job_plan.h"
#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

JobConfig config_for(const std::string& dataset, const std::string& target) {
  JobConfig c;
  c.train_path = testing::test_data(dataset + "/train.csv").string();
  c.target = target;
  c.progress = false;
  return c;
}

TEST(JobPlan, TheSameInputsBuildTheSamePlan) {
  const JobConfig c = config_for("penguins", "species");
  const JobPlan a = build_plan(c), b = build_plan(c);
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_EQ(a.task, Task::kMulticlass);
  EXPECT_EQ(a.config.cv_folds, 5);  // resolved: 275 rows cross-validate
  ASSERT_EQ(a.splits.size(), 5u);
  for (size_t f = 0; f < a.splits.size(); ++f) {
    EXPECT_EQ(a.splits[f].train, b.splits[f].train);
    EXPECT_EQ(a.splits[f].valid, b.splits[f].valid);
  }
  EXPECT_EQ(a.valid_rows.size(), a.table->num_rows);  // every row, out of fold
  ASSERT_EQ(a.candidates.size(), b.candidates.size());
  for (size_t i = 0; i < a.candidates.size(); ++i)
    EXPECT_EQ(a.candidates[i].to_json(), b.candidates[i].to_json());
  EXPECT_EQ(a.target.y, b.target.y);
  EXPECT_EQ(a.trial_seed(7), b.trial_seed(7));
  EXPECT_NE(a.trial_seed(7), a.trial_seed(8));

  JobConfig other = c;
  other.seed = 1;
  EXPECT_NE(build_plan(other).digest(), a.digest());  // another split
  other = c;
  other.threads = 7;  // bookkeeping, not what a trial computes
  EXPECT_EQ(build_plan(other).digest(), a.digest());
}

TEST(JobPlan, HoldOutPlanAndItsRefitPlan) {
  JobConfig c = config_for("auto_mpg", "mpg");
  c.cv_folds = 0;
  const JobPlan p = build_plan(c);
  ASSERT_EQ(p.splits.size(), 1u);
  EXPECT_EQ(p.valid_rows, p.splits[0].valid);
  EXPECT_EQ(p.valid_y().size(), p.splits[0].valid.size());
  const JobPlan all = refit_plan(p);
  ASSERT_EQ(all.splits.size(), 1u);
  EXPECT_EQ(all.splits[0].train.size(), p.table->num_rows);
  EXPECT_TRUE(all.splits[0].valid.empty());
  EXPECT_TRUE(all.valid_rows.empty());
  EXPECT_EQ(all.table.get(), p.table.get());  // shared, not copied
}

TEST(JobPlan, BadConfigurationsAreRefusedBeforeReading) {
  JobConfig c = config_for("penguins", "species");
  c.train_path = "/nonexistent/never-read.csv";
  c.max_candidates = 0;
  EXPECT_THROW(check_job_config(c), InputError);
  c = config_for("penguins", "species");
  c.learners = {"forest"};
  EXPECT_THROW(build_plan(c), InputError);
  c = config_for("penguins", "species");
  c.sampler = "annealing";
  EXPECT_THROW(build_plan(c), InputError);
  c = config_for("penguins", "nope");
  EXPECT_THROW(build_plan(c), InputError);
}

}  // namespace
}  // namespace tabpilot
