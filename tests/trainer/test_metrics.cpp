// Metrics against values worked out by hand on tiny arrays (each expectation shows the
// arithmetic), plus the name lookup and the size checks.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {
namespace {

// Row-major two-column probabilities from P(class 1).
std::vector<float> binary_probs(const std::vector<float>& p1) {
  std::vector<float> out;
  for (float p : p1) {
    out.push_back(1.0f - p);
    out.push_back(p);
  }
  return out;
}

double reg(Metric m, const std::vector<float>& y, const std::vector<float>& p) {
  return compute_metric(m, Task::kRegression, y, p, 1);
}
double bin(Metric m, const std::vector<float>& y, const std::vector<float>& p1) {
  return compute_metric(m, Task::kBinary, y, binary_probs(p1), 2);
}

TEST(Metrics, Regression) {
  std::vector<float> y = {1, 2, 3, 4};
  std::vector<float> p = {1, 3, 2, 6};  // errors 0, 1, -1, 2
  EXPECT_DOUBLE_EQ(reg(Metric::kMSE, y, p), 6.0 / 4);
  EXPECT_DOUBLE_EQ(reg(Metric::kRMSE, y, p), std::sqrt(1.5));
  EXPECT_DOUBLE_EQ(reg(Metric::kMAE, y, p), 4.0 / 4);
  // mean 2.5, SStot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SSres = 6.
  EXPECT_DOUBLE_EQ(reg(Metric::kR2, y, p), 1.0 - 6.0 / 5.0);
  EXPECT_DOUBLE_EQ(reg(Metric::kR2, y, y), 1.0);
}

TEST(Metrics, R2OfConstantTarget) {
  EXPECT_DOUBLE_EQ(reg(Metric::kR2, {2, 2, 2}, {2, 2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(reg(Metric::kR2, {2, 2, 2}, {2, 3, 2}), 0.0);
}

TEST(Metrics, BinaryConfusionMetrics) {
  // truth      1    1    1    0    0    0    0
  // predicted  1    1    0    1    0    0    0   (p >= 0.5; 0.5 counts as positive)
  std::vector<float> y = {1, 1, 1, 0, 0, 0, 0};
  std::vector<float> p = {0.9f, 0.5f, 0.2f, 0.6f, 0.1f, 0.3f, 0.4f};
  // TP 2, FN 1, FP 1, TN 3.
  EXPECT_DOUBLE_EQ(bin(Metric::kAccuracy, y, p), 5.0 / 7);
  EXPECT_DOUBLE_EQ(bin(Metric::kPrecision, y, p), 2.0 / 3);
  EXPECT_DOUBLE_EQ(bin(Metric::kRecall, y, p), 2.0 / 3);
  EXPECT_DOUBLE_EQ(bin(Metric::kF1, y, p), 4.0 / 6);
  EXPECT_DOUBLE_EQ(bin(Metric::kBalancedAccuracy, y, p), (2.0 / 3 + 3.0 / 4) / 2);
}

TEST(Metrics, BinaryEdgeCasesAreZeroNotNaN) {
  // No predicted positives: precision 0/0 -> 0, recall 0, F1 0.
  std::vector<float> y = {1, 0, 0};
  std::vector<float> p = {0.1f, 0.2f, 0.3f};
  EXPECT_EQ(bin(Metric::kPrecision, y, p), 0.0);
  EXPECT_EQ(bin(Metric::kRecall, y, p), 0.0);
  EXPECT_EQ(bin(Metric::kF1, y, p), 0.0);
  // No true positives anywhere and none predicted: recall 0/0 -> 0, F1 0.
  EXPECT_EQ(bin(Metric::kRecall, {0, 0}, {0.1f, 0.2f}), 0.0);
  EXPECT_EQ(bin(Metric::kF1, {0, 0}, {0.1f, 0.2f}), 0.0);
  // Balanced accuracy over the one class present: all negatives right -> 1.
  EXPECT_DOUBLE_EQ(bin(Metric::kBalancedAccuracy, {0, 0}, {0.1f, 0.2f}), 1.0);
  // Perfect classifier.
  EXPECT_DOUBLE_EQ(bin(Metric::kF1, {1, 0}, {0.9f, 0.1f}), 1.0);
}

TEST(Metrics, AucWithTies) {
  // Positives score {0.8, 0.4, 0.4}, negatives {0.4, 0.2}. Pairs (pos > neg counts 1, tie 1/2):
  // 0.8: beats both -> 2; 0.4: tie with 0.4 (0.5) + beats 0.2 (1) -> 1.5, twice -> 3.
  // AUC = (2 + 3) / (3 * 2) = 5/6.
  std::vector<float> y = {1, 1, 1, 0, 0};
  std::vector<float> p = {0.8f, 0.4f, 0.4f, 0.4f, 0.2f};
  EXPECT_NEAR(bin(Metric::kAUC, y, p), 5.0 / 6, 1e-12);
  // All scores equal -> 0.5; one class only -> 0.5 by definition.
  EXPECT_DOUBLE_EQ(bin(Metric::kAUC, {1, 0, 1, 0}, {0.3f, 0.3f, 0.3f, 0.3f}), 0.5);
  EXPECT_DOUBLE_EQ(bin(Metric::kAUC, {1, 1}, {0.3f, 0.9f}), 0.5);
  // Perfectly inverted ranking -> 0.
  EXPECT_DOUBLE_EQ(bin(Metric::kAUC, {1, 0}, {0.1f, 0.9f}), 0.0);
}

TEST(Metrics, LogLossBinaryAndClipping) {
  std::vector<float> y = {1, 0};
  std::vector<float> p = {0.8f, 0.4f};
  double expect = -(std::log(double(0.8f)) + std::log(1.0 - double(0.4f))) / 2;
  EXPECT_NEAR(bin(Metric::kLogLoss, y, p), expect, 1e-7);
  // A confident wrong answer is clipped at 1e-15: -log(1e-15) = 34.538...
  EXPECT_NEAR(bin(Metric::kLogLoss, {1}, {0.0f}), -std::log(1e-15), 1e-9);
}

TEST(Metrics, MulticlassMacroAverages) {
  // truth:     0 0 1 1 2 2
  // predicted: 0 1 1 1 0 2   (arg-max of the rows below)
  std::vector<float> y = {0, 0, 1, 1, 2, 2};
  std::vector<float> p = {0.7f, 0.2f, 0.1f, 0.3f, 0.6f, 0.1f, 0.1f, 0.8f, 0.1f,
                          0.2f, 0.5f, 0.3f, 0.5f, 0.1f, 0.4f, 0.1f, 0.2f, 0.7f};
  auto mc = [&](Metric m) { return compute_metric(m, Task::kMulticlass, y, p, 3); };
  // class 0: TP1 FP1 FN1 -> P 1/2, R 1/2, F1 1/2
  // class 1: TP2 FP1 FN0 -> P 2/3, R 1,   F1 4/5
  // class 2: TP1 FP0 FN1 -> P 1,   R 1/2, F1 2/3
  EXPECT_DOUBLE_EQ(mc(Metric::kAccuracy), 4.0 / 6);
  EXPECT_DOUBLE_EQ(mc(Metric::kPrecisionMacro), (0.5 + 2.0 / 3 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(mc(Metric::kRecallMacro), (0.5 + 1.0 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(mc(Metric::kBalancedAccuracy), (0.5 + 1.0 + 0.5) / 3);
  EXPECT_NEAR(mc(Metric::kF1Macro), (0.5 + 0.8 + 2.0 / 3) / 3, 1e-12);
  double ll = -(std::log(double(0.7f)) + std::log(double(0.3f)) + std::log(double(0.8f)) +
                std::log(double(0.5f)) + std::log(double(0.4f)) + std::log(double(0.7f))) /
              6;
  EXPECT_NEAR(mc(Metric::kLogLoss), ll, 1e-7);
}

TEST(Metrics, MacroSkipsClassesThatNeverOccur) {
  // Class 2 is neither true nor predicted: averaged over classes 0 and 1 only.
  std::vector<float> y = {0, 1};
  std::vector<float> p = {0.6f, 0.3f, 0.1f, 0.2f, 0.7f, 0.1f};
  EXPECT_DOUBLE_EQ(compute_metric(Metric::kF1Macro, Task::kMulticlass, y, p, 3), 1.0);
}

TEST(Metrics, NamesRoundTripCaseInsensitive) {
  for (Task t : {Task::kRegression, Task::kBinary, Task::kMulticlass})
    for (Metric m : reported_metrics(t)) EXPECT_EQ(metric_from_string(to_string(m), t), m);
  EXPECT_EQ(metric_from_string("f1MACRO", Task::kMulticlass), Metric::kF1Macro);
  EXPECT_EQ(metric_from_string("auc", Task::kBinary), Metric::kAUC);
  EXPECT_EQ(metric_from_string("LogLoss", Task::kBinary), Metric::kLogLoss);
}

TEST(Metrics, UnknownNameListsValidOnes) {
  try {
    metric_from_string("AUC", Task::kRegression);
    FAIL() << "AUC accepted for regression";
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("'AUC'"), std::string::npos) << msg;
    for (const char* name : {"MSE", "RMSE", "MAE", "R2"})
      EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
  EXPECT_THROW(metric_from_string("F1", Task::kMulticlass), InputError);
  EXPECT_THROW(metric_from_string("", Task::kBinary), InputError);
}

TEST(Metrics, DirectionAndDefaults) {
  EXPECT_FALSE(higher_is_better(Metric::kMSE));
  EXPECT_FALSE(higher_is_better(Metric::kLogLoss));
  EXPECT_TRUE(higher_is_better(Metric::kAUC));
  EXPECT_TRUE(higher_is_better(Metric::kR2));
  EXPECT_EQ(default_objective(Task::kRegression), Metric::kMSE);
  EXPECT_EQ(default_objective(Task::kBinary), Metric::kF1);
  EXPECT_EQ(default_objective(Task::kMulticlass), Metric::kAccuracy);
}

TEST(Metrics, SizeAndLabelMismatchesThrow) {
  EXPECT_THROW(reg(Metric::kMSE, {1, 2}, {1}), std::invalid_argument);
  EXPECT_THROW(reg(Metric::kMSE, {}, {}), std::invalid_argument);
  EXPECT_THROW(compute_metric(Metric::kF1, Task::kBinary, {1, 0}, {0.5f, 0.5f}, 2),
               std::invalid_argument);
  EXPECT_THROW(compute_metric(Metric::kAccuracy, Task::kMulticlass, {0, 1}, {1, 0, 0, 1}, 3),
               std::invalid_argument);
  EXPECT_THROW(bin(Metric::kF1, {2, 0}, {0.5f, 0.5f}), std::invalid_argument);
  EXPECT_THROW(bin(Metric::kMSE, {1, 0}, {0.5f, 0.5f}), std::invalid_argument);
}

}  // namespace
}  // namespace tabpilot
