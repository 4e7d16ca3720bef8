// reproduce_trial: every completed trial of a small job re-runs from the job folder alone to
// the score the store recorded, and the job's ensemble and validation predictions agree with
// what they claim.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_paths.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/reproduce.h"
#include "tabpilot/automl/validation_predictions.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/trainer/metrics.h"

namespace fs = std::filesystem;

namespace tabpilot {
namespace {

class ReproduceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    JobConfig c;
    c.train_path = testing::test_data("auto_mpg/train.csv").string();
    c.target = "mpg";
    c.output_dir = testing::scratch_dir("repro").string();
    c.name = "mpg";
    c.max_candidates = 10;
    c.time_limit_s = 120;
    c.threads = 2;
    c.progress = false;
    JobResult r = run_fit(c);
    ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
    job_dir_ = new std::string(r.job_dir);
  }
  static void TearDownTestSuite() { delete job_dir_; }
  static std::string* job_dir_;
};
std::string* ReproduceTest::job_dir_ = nullptr;

TEST_F(ReproduceTest, EveryCompletedTrialReproducesItsRecordedScore) {
  auto rows = list_trials(*job_dir_);
  size_t checked = 0;
  for (const auto& row : rows) {
    if (row["objective"].is_null() || row["learner"] == "ensemble") continue;
    ReproducedTrial t = reproduce_trial(*job_dir_, row["trial"]);
    ASSERT_TRUE(t.recorded_objective.has_value());
    EXPECT_DOUBLE_EQ(t.objective, *t.recorded_objective) << t.trial;
    EXPECT_EQ(t.objective_metric, "MSE");
    // The predictions are what the score was computed from.
    EXPECT_NEAR(compute_metric(Metric::kMSE, Task::kRegression, t.predictions.y_true,
                               t.predictions.pred, 1),
                t.objective, 0.01 * t.objective)  // pooled vs mean of folds
        << t.trial;
    ++checked;
  }
  EXPECT_GE(checked, 5u);
}

TEST_F(ReproduceTest, UnknownTrialAndChangedDataAreInputErrors) {
  EXPECT_THROW(reproduce_trial(*job_dir_, "no-such-trial"), InputError);
  EXPECT_THROW(reproduce_trial("/nonexistent/job", "x"), InputError);
}

TEST_F(ReproduceTest, ValidationPredictionsFileMatchesTheBestCandidate) {
  auto job = describe_job(*job_dir_);
  auto v = load_validation_predictions(fs::path(*job_dir_) / kValidationPredictionsFile);
  // Cross-validated (auto_mpg is small): every training row is predicted out of fold.
  EXPECT_EQ(v.size(), job["tabpilot"]["training_rows"].get<size_t>());
  double best = job["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["Value"];
  double mse = compute_metric(Metric::kMSE, Task::kRegression, v.y_true, v.pred, 1);
  // Under CV the objective is the mean of the fold scores; the pooled MSE is close to it.
  EXPECT_NEAR(mse, best, 0.15 * best);
  if (job["BestCandidate"]["Learner"] == "ensemble") {
    // Selected on these rows: never worse than the best single trial in the selection metric
    // (the objective itself for regression).
    const auto& e = job["tabpilot"]["ensemble"];
    EXPECT_EQ(e["selection_metric"], "MSE");
    EXPECT_LE(e["selection_value"].get<double>(), e["best_single_selection_value"].get<double>());
    // The same metric on the same averaged predictions (summed in another order).
    EXPECT_NEAR(e["selection_value"].get<double>(), e["objective"].get<double>(),
                1e-6 * e["objective"].get<double>());
  }
}

}  // namespace
}  // namespace tabpilot
