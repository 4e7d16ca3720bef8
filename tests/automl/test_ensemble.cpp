// Greedy ensemble selection on synthetic predictions with known structure, and the
// validation-predictions file round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "support/test_paths.h"
#include "tabpilot/automl/ensemble.h"
#include "tabpilot/automl/validation_predictions.h"
#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

TEST(Ensemble, NeverWorseThanItsBestMemberAndWeightsSumToOne) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t n = 200;
    std::vector<float> y(n);
    for (auto& v : y) v = noise(rng);
    std::vector<std::vector<float>> models(6, std::vector<float>(n));
    for (auto& m : models)
      for (size_t i = 0; i < n; ++i) m[i] = y[i] + noise(rng) * (0.5f + 0.2f * static_cast<float>(trial % 3));
    std::vector<const std::vector<float>*> preds;
    for (auto& m : models) preds.push_back(&m);
    auto sel = select_ensemble(preds, y, Task::kRegression, 1, Metric::kMSE, 25);
    EXPECT_LE(sel.objective, sel.single_objective + 1e-12);
    double total = 0;
    for (double w : sel.weights) {
      total += w;
      EXPECT_GE(w, 0.0);
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
    // The reported objective is what the weights give.
    std::vector<float> avg(n, 0.0f);
    for (size_t m = 0; m < models.size(); ++m)
      for (size_t i = 0; i < n; ++i) avg[i] += static_cast<float>(sel.weights[m]) * models[m][i];
    EXPECT_NEAR(compute_metric(Metric::kMSE, Task::kRegression, y, avg, 1), sel.objective, 1e-4);
  }
}

TEST(Ensemble, AveragesIndependentErrorsAway) {
  // Four models with independent noise of the same size: the mean of all four has a quarter
  // of the variance, so selection must use all of them about equally.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const size_t n = 4000;
  std::vector<float> y(n);
  for (auto& v : y) v = noise(rng);
  std::vector<std::vector<float>> models(4, std::vector<float>(n));
  for (auto& m : models)
    for (size_t i = 0; i < n; ++i) m[i] = y[i] + noise(rng);
  std::vector<const std::vector<float>*> preds;
  for (auto& m : models) preds.push_back(&m);
  auto sel = select_ensemble(preds, y, Task::kRegression, 1, Metric::kMSE, 20);
  EXPECT_NEAR(sel.single_objective, 1.0, 0.1);
  EXPECT_NEAR(sel.objective, 0.25, 0.03);
  for (double w : sel.weights) EXPECT_NEAR(w, 0.25, 0.1);
}

TEST(Ensemble, ClassificationPicksComplementaryModels) {
  // Model 0 is right on the first half of the rows, model 1 on the second half, model 2 is
  // always unsure. Accuracy of 0 or 1 alone: ~0.5 + what the confident half gives.
  const size_t n = 100;
  std::vector<float> y(n);
  std::vector<float> a(n * 2), b(n * 2), c(n * 2, 0.5f);
  for (size_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(i % 2);
    const bool first = i < n / 2;
    const float good = 0.9f, bad = 0.45f;  // bad: slightly wrong, easily outvoted
    a[i * 2 + static_cast<size_t>(y[i])] = first ? good : bad;
    a[i * 2 + 1 - static_cast<size_t>(y[i])] = 1 - a[i * 2 + static_cast<size_t>(y[i])];
    b[i * 2 + static_cast<size_t>(y[i])] = first ? bad : good;
    b[i * 2 + 1 - static_cast<size_t>(y[i])] = 1 - b[i * 2 + static_cast<size_t>(y[i])];
  }
  auto sel = select_ensemble({&a, &b, &c}, y, Task::kMulticlass, 2, Metric::kAccuracy, 10);
  EXPECT_NEAR(sel.single_objective, 0.5, 1e-9);
  EXPECT_NEAR(sel.objective, 1.0, 1e-9);
  EXPECT_GT(sel.weights[0], 0.0);
  EXPECT_GT(sel.weights[1], 0.0);
}

TEST(Ensemble, RejectsMismatchedInputs) {
  std::vector<float> y{1, 2}, a{1, 2}, b{1};
  EXPECT_THROW(select_ensemble({&a, &b}, y, Task::kRegression, 1, Metric::kMSE, 5),
               std::invalid_argument);
  EXPECT_THROW(select_ensemble({}, y, Task::kRegression, 1, Metric::kMSE, 5), std::invalid_argument);
}

TEST(Ensemble, SelectionMetricIsTheLogLossForHardDecisionObjectives) {
  EXPECT_EQ(ensemble_selection_metric(Task::kRegression, Metric::kMAE), Metric::kMAE);
  EXPECT_EQ(ensemble_selection_metric(Task::kBinary, Metric::kF1), Metric::kLogLoss);
  EXPECT_EQ(ensemble_selection_metric(Task::kBinary, Metric::kBalancedAccuracy), Metric::kLogLoss);
  EXPECT_EQ(ensemble_selection_metric(Task::kBinary, Metric::kAUC), Metric::kAUC);
  EXPECT_EQ(ensemble_selection_metric(Task::kMulticlass, Metric::kAccuracy), Metric::kLogLoss);
  EXPECT_EQ(ensemble_selection_metric(Task::kMulticlass, Metric::kF1Macro), Metric::kLogLoss);
  EXPECT_EQ(ensemble_selection_metric(Task::kBinary, Metric::kF1, "objective"), Metric::kF1);
  EXPECT_THROW(ensemble_selection_metric(Task::kBinary, Metric::kF1, "logloss"), InputError);
}

TEST(ValidationPredictions, RoundTripsClassificationAndRegression) {
  ValidationPredictions v;
  v.task = Task::kMulticlass;
  v.labels = {"Adelie", "Chinstrap, the \"one\"", "007"};
  v.rows = {4, 0, 9};
  v.y_true = {0, 2, 1};
  v.pred = {0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f, 0.25f, 0.5f, 0.25f};
  auto dir = testing::scratch_dir("vp");
  save_validation_predictions(dir / "v.csv", v);
  auto back = load_validation_predictions(dir / "v.csv");
  EXPECT_EQ(back.task, v.task);
  EXPECT_EQ(back.labels, v.labels);
  EXPECT_EQ(back.rows, v.rows);
  EXPECT_EQ(back.y_true, v.y_true);
  EXPECT_EQ(back.pred, v.pred);

  ValidationPredictions r;
  r.task = Task::kRegression;
  r.rows = {1, 2};
  r.y_true = {3.25f, -1e-7f};
  r.pred = {3.0f, 123456.789f};
  save_validation_predictions(dir / "r.csv", r);
  auto rb = load_validation_predictions(dir / "r.csv");
  ValidationPredictions b;
  b.task = Task::kBinary;
  b.labels = {"no", "yes"};
  b.rows = {0};
  b.y_true = {1};
  b.pred = {0.6f, 0.4f};
  b.decision_threshold = 0.375f;
  save_validation_predictions(dir / "b.csv", b);
  EXPECT_EQ(load_validation_predictions(dir / "b.csv").decision_threshold, 0.375f);
  EXPECT_EQ(rb.y_true, r.y_true);
  EXPECT_EQ(rb.pred, r.pred);
  EXPECT_TRUE(rb.labels.empty());
}

TEST(ValidationPredictions, MalformedFilesAreInputErrorsNamingTheLine) {
  auto bad = testing::write_temp_file("v.csv", "# problem_type=Regression\nrow,label,prediction\n0,1,x\n");
  try {
    load_validation_predictions(bad);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":3:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_validation_predictions(testing::write_temp_file("w.csv", "row,label\n")), InputError);
}

}  // namespace
}  // namespace tabpilot
