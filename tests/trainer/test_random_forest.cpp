// The random forest against what a forest is by construction: leaves hold the mean of their
// rows (regression) and class frequencies (classification, as scikit-learn's predict_proba),
// the forest averages its trees, bagging differs by seed and is deterministic for one, and
// regression TreeSHAP adds up to the prediction.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <numeric>
#include <random>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

struct Data {
  Matrix x;
  std::vector<float> y;
};

FitData fit_data(const Data& d, Task task, int k) {
  FitData f;
  f.x_train = d.x.view();
  f.y_train = &d.y;
  f.task = task;
  f.num_classes = k;
  return f;
}

// Whole trees (no row or column sampling): every tree is the same tree.
const Params kExact = {{"n_trees", 30}, {"subsample", 1.0}, {"colsample_bynode", 1.0},
                       {"min_child_weight", 1.0}};

TEST(RandomForest, RegressionLeavesHoldTheMeanOfTheirRows) {
  Data d{Matrix(80, 1), {}};
  const double means[4] = {1.0, -2.0, 5.5, 3.25};
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 0.5f);
  std::vector<double> sum(4, 0.0), n(4, 0.0);
  for (size_t i = 0; i < 80; ++i) {
    const int g = static_cast<int>(i % 4);
    d.x.at(i, 0) = float(g);
    d.y.push_back(float(means[g]) + noise(rng));
    sum[g] += d.y.back();
    n[g] += 1;
  }
  auto l = make_learner("random_forest");
  Params p = kExact;
  p["max_depth"] = 4;  // four values of x: two levels split them all, more cannot
  l->fit(fit_data(d, Task::kRegression, 1), p, {});
  Matrix probe(4, 1);
  for (int g = 0; g < 4; ++g) probe.at(g, 0) = float(g);
  std::vector<float> out;
  l->predict(probe.view(), out);
  for (int g = 0; g < 4; ++g) EXPECT_NEAR(out[g], sum[g] / n[g], 1e-3) << "group " << g;
}

TEST(RandomForest, ClassProbabilitiesAreLeafFrequencies) {
  // Binary: 30% positives where x = 0, 80% where x = 1.
  Data b{Matrix(100, 1), {}};
  for (size_t i = 0; i < 100; ++i) {
    const bool one = i >= 50;
    b.x.at(i, 0) = one ? 1.0f : 0.0f;
    b.y.push_back((one ? (i - 50) < 40 : i < 15) ? 1.0f : 0.0f);
  }
  Params p = kExact;
  p["max_depth"] = 4;  // one binary feature: one split, whatever the depth
  auto l = make_learner("random_forest");
  l->fit(fit_data(b, Task::kBinary, 2), p, {});
  Matrix probe(2, 1);
  probe.at(1, 0) = 1.0f;
  std::vector<float> out;
  l->predict(probe.view(), out);
  EXPECT_NEAR(out[1], 0.30, 1e-3);
  EXPECT_NEAR(out[3], 0.80, 1e-3);
  EXPECT_NEAR(out[0] + out[1], 1.0, 1e-6);
  // Three classes, (0.5, 0.3, 0.2) where x = 0 and (0.1, 0.1, 0.8) where x = 1.
  Data m{Matrix(100, 1), {}};
  for (size_t i = 0; i < 100; ++i) {
    const bool one = i >= 50;
    const size_t j = i % 50;
    m.x.at(i, 0) = one ? 1.0f : 0.0f;
    m.y.push_back(one ? (j < 5 ? 0.0f : j < 10 ? 1.0f : 2.0f) : (j < 25 ? 0.0f : j < 40 ? 1.0f : 2.0f));
  }
  auto l3 = make_learner("random_forest");
  l3->fit(fit_data(m, Task::kMulticlass, 3), p, {});
  l3->predict(probe.view(), out);
  const double want[6] = {0.5, 0.3, 0.2, 0.1, 0.1, 0.8};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(out[i], want[i], 1e-3) << i;
  std::vector<float> contrib;
  EXPECT_FALSE(l3->contributions(probe.view(), contrib));  // Kernel SHAP explains these
}

Data noisy_regression(size_t n, uint32_t seed) {
  Data d{Matrix(n, 3), {}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < 3; ++j) d.x.at(i, j) = u(rng);
    d.y.push_back(2 * d.x.at(i, 0) - d.x.at(i, 1) * d.x.at(i, 2) + 0.3f * u(rng));
  }
  return d;
}

TEST(RandomForest, BaggingDependsOnTheSeedAndIsDeterministicForOne) {
  const Data d = noisy_regression(300, 2);
  const Params p = {{"n_trees", 30}, {"subsample", 0.5}, {"colsample_bynode", 0.7}};
  auto predict_with = [&](uint64_t seed) {
    auto l = make_learner("random_forest");
    FitContext ctx;
    ctx.seed = seed;
    l->fit(fit_data(d, Task::kRegression, 1), p, ctx);
    std::vector<float> out;
    l->predict(d.x.view(), out);
    return out;
  };
  EXPECT_EQ(predict_with(1), predict_with(1));
  EXPECT_NE(predict_with(1), predict_with(2));
}

// The forest grows in chunks: a stop (or a pruner) between them keeps the trees grown, and
// the model predicts with them.
TEST(RandomForest, StopsBetweenChunksKeepingTheTreesItHas) {
  const Data d = noisy_regression(300, 4);
  FitData f = fit_data(d, Task::kRegression, 1);
  f.x_valid = d.x.view();
  f.y_valid = &d.y;
  FitContext ctx;
  std::vector<double> curve;
  ctx.report = [&](int step, double loss) {
    curve.push_back(loss);
    return step < 1;  // stop after the second chunk
  };
  auto l = make_learner("random_forest");
  l->fit(f, {{"n_trees", 400}}, ctx);
  EXPECT_EQ(curve.size(), 2u);
  EXPECT_EQ(l->fit_info()["trees"], 50);
  EXPECT_EQ(l->fit_info()["trees_asked"], 400);
  std::vector<float> pred;
  l->predict(d.x.view(), pred);
  for (float v : pred) EXPECT_TRUE(std::isfinite(v));
  std::atomic<bool> cancel{true};
  FitContext stopped;
  stopped.stop = StopToken(std::chrono::steady_clock::time_point::max(), &cancel);
  auto s = make_learner("random_forest");
  s->fit(fit_data(d, Task::kRegression, 1), {{"n_trees", 400}}, stopped);
  EXPECT_EQ(s->fit_info()["trees"], 25);  // one chunk, then the stop
}

TEST(RandomForest, TreeShapAddsUpAndTheModelRoundTrips) {
  const Data d = noisy_regression(200, 3);
  auto l = make_learner("random_forest");
  l->fit(fit_data(d, Task::kRegression, 1), {{"n_trees", 30}}, {});
  std::vector<float> pred, contrib;
  l->predict(d.x.view(), pred);
  ASSERT_TRUE(l->contributions(d.x.view(), contrib));
  for (size_t i = 0; i < 200; i += 17) {
    const double s = std::accumulate(contrib.begin() + i * 4, contrib.begin() + i * 4 + 4, 0.0);
    EXPECT_NEAR(s, pred[i], 1e-3) << "row " << i;
  }
  auto copy = make_learner("random_forest");
  copy->deserialize(l->serialize());
  std::vector<float> again;
  copy->predict(d.x.view(), again);
  EXPECT_EQ(again, pred);
  EXPECT_EQ(copy->fit_info()["trees"], 30);
  auto bytes = l->serialize();
  bytes[3] ^= 1;
  EXPECT_THROW(copy->deserialize(bytes), InputError);
  bytes = l->serialize();
  bytes.resize(bytes.size() / 2);
  EXPECT_THROW(copy->deserialize(bytes), std::exception);
}

}  // namespace
}  // namespace tabpilot
