// model_quality.json against an independent computation (trainer/metrics.h compute_metric),
// and the standard deviations' rules: NaN under 200 rows, shrinking with more rows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tabpilot/report/model_quality.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {
namespace {

ValidationPredictions regression(size_t n, uint64_t seed) {
  ValidationPredictions v;
  v.task = Task::kRegression;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  for (size_t i = 0; i < n; ++i) {
    const float y = static_cast<float>(i % 17) + noise(rng);
    v.rows.push_back(i);
    v.y_true.push_back(y);
    v.pred.push_back(y + 0.8f * noise(rng));
  }
  return v;
}

ValidationPredictions classification(size_t n, int k, uint64_t seed) {
  ValidationPredictions v;
  v.task = k == 2 ? Task::kBinary : Task::kMulticlass;
  for (int c = 0; c < k; ++c) v.labels.push_back("class <" + std::to_string(c) + ">");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (size_t i = 0; i < n; ++i) {
    const int y = static_cast<int>(i % static_cast<size_t>(k));
    std::vector<float> p(static_cast<size_t>(k));
    float s = 0;
    for (int c = 0; c < k; ++c) s += p[static_cast<size_t>(c)] = u(rng) + (c == y ? 0.9f : 0.0f);
    v.rows.push_back(i);
    v.y_true.push_back(static_cast<float>(y));
    for (float x : p) v.pred.push_back(x / s);
  }
  return v;
}

double value(const nlohmann::json& m, const std::string& k) { return m.at(k).at("value").get<double>(); }

TEST(ModelQuality, RegressionMetricsMatchComputeMetric) {
  const auto v = regression(300, 1);
  const auto j = model_quality_metrics(v);
  const auto& m = j.at("regression_metrics");
  EXPECT_EQ(j["dataset"]["item_count"], 300);
  EXPECT_NEAR(value(m, "mse"), compute_metric(Metric::kMSE, v.task, v.y_true, v.pred, 1), 1e-6);
  EXPECT_NEAR(value(m, "rmse"), compute_metric(Metric::kRMSE, v.task, v.y_true, v.pred, 1), 1e-6);
  EXPECT_NEAR(value(m, "mae"), compute_metric(Metric::kMAE, v.task, v.y_true, v.pred, 1), 1e-6);
  EXPECT_NEAR(value(m, "r2"), compute_metric(Metric::kR2, v.task, v.y_true, v.pred, 1), 1e-6);
}

TEST(ModelQuality, BinaryMetricsMatchComputeMetric) {
  const auto v = classification(400, 2, 2);
  const auto j = model_quality_metrics(v);
  const auto& m = j.at("binary_classification_metrics");
  auto ref = [&](Metric mt) { return compute_metric(mt, v.task, v.y_true, v.pred, 2); };
  EXPECT_NEAR(value(m, "accuracy"), ref(Metric::kAccuracy), 1e-9);
  EXPECT_NEAR(value(m, "f1"), ref(Metric::kF1), 1e-9);
  EXPECT_NEAR(value(m, "precision"), ref(Metric::kPrecision), 1e-9);
  EXPECT_NEAR(value(m, "recall"), ref(Metric::kRecall), 1e-9);
  EXPECT_NEAR(value(m, "auc"), ref(Metric::kAUC), 1e-9);
  EXPECT_NEAR(value(m, "true_positive_rate") + value(m, "false_negative_rate"), 1.0, 1e-12);
  EXPECT_NEAR(value(m, "true_negative_rate") + value(m, "false_positive_rate"), 1.0, 1e-12);
  // Always predicting one class of a balanced set: accuracy 0.5, recall 1 (always positive).
  EXPECT_NEAR(value(m, "accuracy_best_constant_classifier"), 0.5, 1e-12);
  EXPECT_NEAR(value(m, "recall_best_constant_classifier"), 1.0, 1e-12);
  // Confusion matrix keyed by label text, counts summing to the rows.
  const auto& cm = m.at("confusion_matrix");
  double total = 0;
  for (const auto& [t, row] : cm.items())
    for (const auto& [p, n] : row.items()) total += n.get<double>();
  EXPECT_EQ(total, 400);
  EXPECT_TRUE(cm.contains("class <1>"));
  const auto& roc = m.at("receiver_operating_characteristic_curve");
  ASSERT_EQ(roc["false_positive_rates"].size(), roc["true_positive_rates"].size());
  EXPECT_EQ(roc["false_positive_rates"].back(), 1.0);
  EXPECT_EQ(roc["true_positive_rates"].back(), 1.0);
  // Trapezoid area of the curve = the rank AUC (ties broken the same way).
  double area = 0;
  for (size_t i = 1; i < roc["false_positive_rates"].size(); ++i)
    area += (roc["false_positive_rates"][i].get<double>() - roc["false_positive_rates"][i - 1].get<double>()) *
            (roc["true_positive_rates"][i].get<double>() + roc["true_positive_rates"][i - 1].get<double>()) / 2;
  EXPECT_NEAR(area, value(m, "auc"), 1e-6);
  EXPECT_EQ(m["precision_recall_curve"]["precisions"].size(), m["precision_recall_curve"]["recalls"].size());
}

TEST(ModelQuality, MulticlassMetricsMatchComputeMetric) {
  const auto v = classification(450, 3, 3);
  const auto j = model_quality_metrics(v);
  const auto& m = j.at("multiclass_classification_metrics");
  EXPECT_NEAR(value(m, "accuracy"), compute_metric(Metric::kAccuracy, v.task, v.y_true, v.pred, 3), 1e-9);
  // Weighted recall is accuracy; with balanced classes weighted = macro.
  EXPECT_NEAR(value(m, "weighted_recall"), value(m, "accuracy"), 1e-9);
  EXPECT_NEAR(value(m, "weighted_precision"),
              compute_metric(Metric::kPrecisionMacro, v.task, v.y_true, v.pred, 3), 1e-9);
  EXPECT_NEAR(value(m, "weighted_f1"), compute_metric(Metric::kF1Macro, v.task, v.y_true, v.pred, 3), 1e-9);
  EXPECT_NEAR(value(m, "accuracy_best_constant_classifier"), 1.0 / 3, 1e-9);
}

TEST(ModelQuality, StandardDeviationOnlyFrom200RowsAndShrinkingWithMoreRows) {
  const auto small = model_quality_metrics(regression(199, 4));
  EXPECT_EQ(small["regression_metrics"]["mse"]["standard_deviation"], "NaN");
  // Std over 80% subsamples of n rows ~ sqrt(0.2 / 0.8 / n) x the per-row spread: average a
  // few seeds, then compare 400 rows with 6400 rows (expect about 4x smaller).
  auto mean_sd = [](size_t n) {
    double s = 0;
    for (uint64_t seed = 0; seed < 8; ++seed)
      s += model_quality_metrics(regression(n, seed), seed)["regression_metrics"]["mae"]["standard_deviation"]
               .get<double>();
    return s / 8;
  };
  const double sd400 = mean_sd(400), sd6400 = mean_sd(6400);
  EXPECT_GT(sd400, 0);
  EXPECT_LT(sd400, 0.1);  // MAE ~0.64; its sampling std at 400 rows is a few hundredths
  EXPECT_GT(sd400 / sd6400, 2.0);
  EXPECT_LT(sd400 / sd6400, 8.0);
  const auto bin = model_quality_metrics(classification(1000, 2, 5));
  const double acc_sd = bin["binary_classification_metrics"]["accuracy"]["standard_deviation"].get<double>();
  EXPECT_GT(acc_sd, 0);
  EXPECT_LT(acc_sd, 0.03);
}

TEST(ModelQuality, HtmlEscapesLabelsAndDrawsCharts) {
  const auto v = classification(250, 2, 6);
  const std::string h = model_quality_html(v, model_quality_metrics(v), {{"candidate", "c<1>"}});
  EXPECT_EQ(h.find("class <1>"), std::string::npos);
  EXPECT_NE(h.find("class &lt;1&gt;"), std::string::npos);
  EXPECT_NE(h.find("ROC curve"), std::string::npos);
  EXPECT_NE(h.find("data-chart=\"heatmap\""), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace tabpilot
