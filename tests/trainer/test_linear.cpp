// The "linear" learner against closed forms worked by hand, exact data, and the optimality
// conditions of the documented objectives (checked from predictions alone).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

struct Dataset {
  Matrix x;
  std::vector<float> y;
};

FitData fit_data(const Dataset& d, Task task, int classes) {
  FitData f;
  f.x_train = d.x.view();
  f.y_train = &d.y;
  f.task = task;
  f.num_classes = classes;
  return f;
}

std::vector<float> predict(const Learner& l, const Matrix& x) {
  std::vector<float> out;
  l.predict(x.view(), out);
  return out;
}

// Gaussian features; labels drawn from a logistic (or softmax) model with weights `w`.
Dataset logistic_data(size_t n, const std::vector<std::vector<double>>& w, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const size_t d = w[0].size();
  Dataset ds{Matrix(n, d), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) ds.x.at(i, j) = 2.0f * g(rng) + float(j);
    std::vector<double> z(w.size() + 1, 0.0);  // class 0 has logit 0
    for (size_t c = 0; c < w.size(); ++c)
      for (size_t j = 0; j < d; ++j) z[c + 1] += w[c][j] * ds.x.at(i, j);
    double sum = 0;
    for (double& t : z) sum += (t = std::exp(t));
    double r = u(rng) * sum;
    size_t label = 0;
    while (label + 1 < z.size() && r > z[label]) r -= z[label++];
    ds.y[i] = float(label);
  }
  return ds;
}

double population_var(const Matrix& x, size_t j) {
  double m = 0, v = 0;
  for (size_t i = 0; i < x.rows(); ++i) m += x.at(i, j);
  m /= x.rows();
  for (size_t i = 0; i < x.rows(); ++i) v += (x.at(i, j) - m) * (x.at(i, j) - m);
  return v / x.rows();
}

// Raw-unit weight differences recovered from predictions: log(p_c / p_0) is linear in x.
std::vector<std::vector<double>> logit_slopes(const Learner& l, size_t d, int k) {
  Matrix probe(d + 1, d, 0.0f);
  for (size_t j = 0; j < d; ++j) probe.at(j + 1, j) = 1.0f;
  auto p = predict(l, probe);
  std::vector<std::vector<double>> slope(k, std::vector<double>(d, 0.0));
  for (int c = 0; c < k; ++c)
    for (size_t j = 0; j < d; ++j)
      slope[c][j] =
          std::log(double(p[(j + 1) * k + c]) / p[(j + 1) * k]) - std::log(double(p[c]) / p[0]);
  return slope;
}

TEST(LinearLearner, RidgeMatchesHandWorkedClosedForm) {
  // x = 1..4, y = (1, 3, 2, 5), l2 = 2, var(x) = 1.25. On the standardized feature
  // v = sum xs (y - 2.75) / (sum xs^2 + l2) = (5.5 / sd) / (4 + 2), so in raw units
  // w = v / sd = 5.5 / (1.25 * 6) = 0.7333 and the intercept is 2.75 - 2.5 w.
  Dataset d{Matrix(4, 1), {1, 3, 2, 5}};
  for (int i = 0; i < 4; ++i) d.x.at(i, 0) = float(i + 1);
  auto l = make_learner("linear");
  l->fit(fit_data(d, Task::kRegression, 1), {{"l2", 2.0}}, {});
  Matrix probe(2, 1);
  probe.at(1, 0) = 1.0f;
  auto p = predict(*l, probe);
  const double w = 5.5 / (1.25 * 6.0);
  EXPECT_NEAR(p[0], 2.75 - 2.5 * w, 1e-6);
  EXPECT_NEAR(p[1] - p[0], w, 1e-6);
}

// rows = 300 fits in one standardized block; 9000 spans three (4096 rows each).
class RidgeExact : public ::testing::TestWithParam<size_t> {};
INSTANTIATE_TEST_SUITE_P(LinearLearner, RidgeExact, ::testing::Values(300, 9000));

TEST_P(RidgeExact, RidgeRecoversExactLinearData) {
  const size_t n = GetParam();
  const std::vector<double> w = {1.5, -2.0, 0.25, 0.0};
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-5.0f, 5.0f);
  Dataset d{Matrix(n, 4), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    double y = 7.0;
    for (size_t j = 0; j < 4; ++j) y += w[j] * (d.x.at(i, j) = u(rng) * float(j + 1));
    d.y[i] = float(y);
  }
  auto l = make_learner("linear");
  l->fit(fit_data(d, Task::kRegression, 1), {{"l2", 1e-6}}, {});
  auto p = predict(*l, d.x);
  for (size_t i = 0; i < n; ++i) EXPECT_NEAR(p[i], d.y[i], 2e-4);
  Matrix probe(5, 4, 0.0f);
  for (size_t j = 0; j < 4; ++j) probe.at(j + 1, j) = 1.0f;
  auto q = predict(*l, probe);
  EXPECT_NEAR(q[0], 7.0, 1e-4);
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(q[j + 1] - q[0], w[j], 1e-4);
}

// Fewer rows than columns: the ridge is solved in its dual form (n x n). The weights must
// still satisfy the primal optimality condition Xs^T (yc - Xs v) = l2 v, checked here in
// double precision from the weights read back through predictions.
TEST(LinearLearner, WideRidgeSatisfiesThePrimalNormalEquations) {
  const size_t n = 12, d = 40;
  const double l2 = 3.0;
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 1.0f);
  Dataset ds{Matrix(n, d), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) ds.x.at(i, j) = g(rng) * float(1 + j % 3) + float(j % 5);
    ds.y[i] = g(rng) + ds.x.at(i, 0);
  }
  auto l = make_learner("linear");
  l->fit(fit_data(ds, Task::kRegression, 1), {{"l2", l2}}, {});
  EXPECT_EQ(l->fit_info().value("solver", ""), "cholesky_dual");
  Matrix probe(d + 1, d, 0.0f);
  for (size_t j = 0; j < d; ++j) probe.at(j + 1, j) = 1.0f;
  const auto q = predict(*l, probe);
  std::vector<double> mean(d, 0.0), sd(d), v(d);
  double ymean = 0;
  for (size_t i = 0; i < n; ++i) ymean += ds.y[i] / double(n);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n; ++i) mean[j] += ds.x.at(i, j) / double(n);
    sd[j] = std::sqrt(population_var(ds.x, j));
    v[j] = (double(q[j + 1]) - q[0]) * sd[j];  // raw slope -> standardized weight
  }
  std::vector<double> resid(n);
  for (size_t i = 0; i < n; ++i) {
    double f = 0;
    for (size_t j = 0; j < d; ++j) f += (ds.x.at(i, j) - mean[j]) / sd[j] * v[j];
    resid[i] = (ds.y[i] - ymean) - f;
  }
  for (size_t j = 0; j < d; ++j) {
    double grad = -l2 * v[j];
    for (size_t i = 0; i < n; ++i) grad += (ds.x.at(i, j) - mean[j]) / sd[j] * resid[i];
    EXPECT_NEAR(grad, 0.0, 2e-3) << "column " << j;
  }
}

TEST(LinearLearner, BinaryLogisticGradientVanishesAtOptimum) {
  const double l2 = 30.0;  // per-row weight of the penalty falls as 1/rows
  const size_t n = 6000;   // two standardized blocks of 4096 rows
  Dataset d = logistic_data(n, {{0.8, -0.5, 0.3}}, 11);
  auto l = make_learner("linear");
  l->fit(fit_data(d, Task::kBinary, 2), {{"l2", l2}}, {});
  EXPECT_TRUE(l->fit_info()["converged"].get<bool>());
  auto p = predict(*l, d.x);
  auto w = logit_slopes(*l, 3, 2)[1];
  // Stationarity of sum_i loss_i + (l2/2) ||v||^2 with v_j = w_j sd_j, in raw units:
  // sum_i (p_i - y_i) = 0 and sum_i (p_i - y_i) x_ij + l2 w_j var_j = 0.
  double g0 = 0;
  std::vector<double> g(3, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double r = p[2 * i + 1] - d.y[i];
    g0 += r;
    for (size_t j = 0; j < 3; ++j) g[j] += r * d.x.at(i, j);
  }
  EXPECT_NEAR(g0 / double(n), 0.0, 1e-5);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR((g[j] + l2 * w[j] * population_var(d.x, j)) / double(n), 0.0, 1e-4) << j;
    EXPECT_GT(std::fabs(l2 * w[j] * population_var(d.x, j)) / double(n), 1e-3);  // penalty matters
  }
}

TEST(LinearLearner, MultinomialGradientVanishesAtOptimum) {
  const double l2 = 2.0;
  const int k = 3;
  Dataset d = logistic_data(600, {{0.6, -0.4}, {-0.5, 0.7}}, 12);
  auto l = make_learner("linear");
  l->fit(fit_data(d, Task::kMulticlass, k), {{"l2", l2}}, {});
  auto p = predict(*l, d.x);
  auto slope = logit_slopes(*l, 2, k);
  for (size_t j = 0; j < 2; ++j) {
    // The penalty makes sum_c w_cj = 0 at the optimum, which pins w_c from differences.
    double mean = 0;
    for (int c = 0; c < k; ++c) mean += slope[c][j] / k;
    for (int c = 0; c < k; ++c) {
      double g = 0, g0 = 0;
      for (size_t i = 0; i < 600; ++i) {
        const double r = p[i * k + c] - (d.y[i] == c ? 1.0 : 0.0);
        g += r * d.x.at(i, j);
        g0 += r;
      }
      const double wcj = slope[c][j] - mean;
      EXPECT_NEAR(g0 / 600, 0.0, 1e-5);
      EXPECT_NEAR((g + l2 * wcj * population_var(d.x, j)) / 600, 0.0, 1e-4) << c << "," << j;
    }
  }
  for (size_t i = 0; i < 600; ++i) EXPECT_NEAR(p[i * k] + p[i * k + 1] + p[i * k + 2], 1.0, 1e-5);
}

TEST(LinearLearner, SeparatesGaussianBlobs) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const int k = 3, n = 600;
  Dataset d{Matrix(n, 2), std::vector<float>(n)};
  const float cx[k] = {-3, 3, 0}, cy[k] = {0, 0, 4};
  for (int i = 0; i < n; ++i) {
    int c = i % k;
    d.x.at(i, 0) = cx[c] + g(rng);
    d.x.at(i, 1) = cy[c] + g(rng);
    d.y[i] = float(c);
  }
  auto l = make_learner("linear");
  l->fit(fit_data(d, Task::kMulticlass, k), {}, {});
  auto p = predict(*l, d.x);
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    int arg = 0;
    for (int c = 1; c < k; ++c)
      if (p[i * k + c] > p[i * k + arg]) arg = c;
    correct += arg == int(d.y[i]);
  }
  EXPECT_GT(correct, 0.95 * n);
}

TEST(LinearLearner, BalancedClassWeightsZeroTheWeightedResidual) {
  Dataset d = logistic_data(500, {{1.0, 0.0}}, 21);
  for (size_t i = 0; i < 500; ++i)  // make class 1 rare
    if (d.y[i] == 1 && i % 4 != 0) d.y[i] = 0;
  double n1 = 0;
  for (float t : d.y) n1 += t;
  const double w1 = 500 / (2 * n1), w0 = 500 / (2 * (500 - n1));
  auto plain = make_learner("linear"), balanced = make_learner("linear");
  plain->fit(fit_data(d, Task::kBinary, 2), {}, {});
  balanced->fit(fit_data(d, Task::kBinary, 2), {{"class_weight", "balanced"}}, {});
  auto pp = predict(*plain, d.x), pb = predict(*balanced, d.x);
  double weighted = 0, mean_plain = 0, mean_bal = 0;
  for (size_t i = 0; i < 500; ++i) {
    weighted += (d.y[i] == 1 ? w1 : w0) * (pb[2 * i + 1] - d.y[i]);
    mean_plain += pp[2 * i + 1] / 500;
    mean_bal += pb[2 * i + 1] / 500;
  }
  EXPECT_NEAR(weighted / 500, 0.0, 1e-5);
  EXPECT_NEAR(mean_plain, n1 / 500, 1e-4);
  EXPECT_GT(mean_bal, mean_plain + 0.1);
}

TEST(LinearLearner, SerializeRoundTripGivesIdenticalPredictions) {
  Dataset d = logistic_data(200, {{0.5, -0.5}, {0.2, 0.9}}, 31);
  d.x.at(3, 1) = NAN;  // missing inputs take the training mean
  auto l = make_learner("linear");
  l->fit(fit_data(d, Task::kMulticlass, 3), {}, {});
  auto bytes = l->serialize();
  auto copy = make_learner("linear");
  copy->deserialize(bytes);
  EXPECT_EQ(predict(*l, d.x), predict(*copy, d.x));
  bytes.pop_back();
  EXPECT_THROW(copy->deserialize(bytes), InputError);
  EXPECT_THROW(copy->deserialize({1, 2, 3}), InputError);
}

TEST(LinearLearner, DeterministicAndStopTokenHonoured) {
  Dataset d = logistic_data(300, {{0.7, -0.2, 0.4}}, 41);
  auto a = make_learner("linear"), b = make_learner("linear"), c = make_learner("linear");
  a->fit(fit_data(d, Task::kBinary, 2), {}, {});
  b->fit(fit_data(d, Task::kBinary, 2), {}, {});
  EXPECT_EQ(predict(*a, d.x), predict(*b, d.x));
  FitContext stopped;
  stopped.stop = StopToken::after_seconds(-1.0);
  c->fit(fit_data(d, Task::kBinary, 2), {}, stopped);
  EXPECT_EQ(c->fit_info()["iterations"].get<int>(), 0);
  EXPECT_GT(a->fit_info()["iterations"].get<int>(), 0);
}

TEST(LinearLearner, RejectsBadLabelsAndParams) {
  Dataset d = logistic_data(50, {{0.5}}, 51);
  d.y[7] = 2.0f;
  auto l = make_learner("linear");
  EXPECT_THROW(l->fit(fit_data(d, Task::kBinary, 2), {}, {}), InputError);
  d.y[7] = 1.0f;
  EXPECT_THROW(l->fit(fit_data(d, Task::kBinary, 2), {{"l2", -1.0}}, {}), InputError);
  EXPECT_THROW(l->fit(fit_data(d, Task::kBinary, 2), {{"class_weight", "x"}}, {}), InputError);
}

}  // namespace
}  // namespace tabpilot
