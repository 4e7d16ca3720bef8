// The "mlp" learner end to end: learns what a linear model cannot, determinism bit for bit,
// byte round trips, early stopping, pruning reports, stop token, NaN guard and speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

struct Dataset {
  Matrix x;
  std::vector<float> y;
};

// label = (x0 * x1 > 0) on [-1, 1]^2, plus `extra` noise columns.
Dataset xor_data(size_t n, uint32_t seed, size_t extra = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Dataset d{Matrix(n, 2 + extra), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < 2 + extra; ++j) d.x.at(i, j) = u(rng);
    d.y[i] = d.x.at(i, 0) * d.x.at(i, 1) > 0 ? 1.0f : 0.0f;
  }
  return d;
}

Dataset wave_data(size_t n, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Dataset d{Matrix(n, cols), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < cols; ++j) d.x.at(i, j) = u(rng);
    d.y[i] = 10.0f + 3.0f * std::sin(3.0f * d.x.at(i, 0)) + 2.0f * d.x.at(i, 1) * d.x.at(i, 1);
  }
  return d;
}

FitData fit_data(const Dataset& train, const Dataset* valid, Task task, int classes) {
  FitData f;
  f.x_train = train.x.view();
  f.y_train = &train.y;
  if (valid) {
    f.x_valid = valid->x.view();
    f.y_valid = &valid->y;
  }
  f.task = task;
  f.num_classes = classes;
  return f;
}

FitContext seeded(uint64_t seed) {
  FitContext c;
  c.seed = seed;
  return c;
}

std::vector<float> predict(const Learner& l, const Matrix& x) {
  std::vector<float> out;
  l.predict(x.view(), out);
  return out;
}

double accuracy_binary(const std::vector<float>& p, const std::vector<float>& y) {
  double ok = 0;
  for (size_t i = 0; i < y.size(); ++i) ok += (p[2 * i + 1] >= 0.5f) == (y[i] == 1.0f);
  return ok / y.size();
}

TEST(MlpLearner, LearnsXorThatALinearModelCannot) {
  Dataset train = xor_data(1500, 1), valid = xor_data(500, 2);
  auto mlp = make_learner("mlp"), linear = make_learner("linear");
  const Params p = {{"learning_rate", 1e-2}, {"batch_size", "64"}, {"max_epochs", 60}};
  mlp->fit(fit_data(train, &valid, Task::kBinary, 2), p, seeded(7));
  linear->fit(fit_data(train, &valid, Task::kBinary, 2), {}, {});
  const auto pm = predict(*mlp, valid.x);
  EXPECT_GT(accuracy_binary(pm, valid.y), 0.9);
  EXPECT_LT(accuracy_binary(predict(*linear, valid.x), valid.y), 0.7);
  for (size_t i = 0; i < valid.y.size(); ++i) EXPECT_NEAR(pm[2 * i] + pm[2 * i + 1], 1.0f, 1e-5);
}

TEST(MlpLearner, NonlinearRegressionBeatsTheMeanByFar) {
  Dataset train = wave_data(2000, 3, 3), valid = wave_data(500, 3, 4);
  auto l = make_learner("mlp");
  l->fit(fit_data(train, &valid, Task::kRegression, 1),
         {{"learning_rate", 3e-3}, {"max_epochs", 80}, {"dropout", 0.0}, {"width", 64}}, seeded(1));
  const auto p = predict(*l, valid.x);
  double mean = 0, var = 0, mse = 0;
  for (float t : valid.y) mean += t / valid.y.size();
  for (size_t i = 0; i < valid.y.size(); ++i) {
    var += (valid.y[i] - mean) * (valid.y[i] - mean) / valid.y.size();
    mse += (p[i] - valid.y[i]) * (p[i] - valid.y[i]) / valid.y.size();
  }
  EXPECT_LT(mse, 0.05 * var);  // target units: the standardization is undone
  EXPECT_NEAR(l->fit_info()["best_loss"].get<double>(), mse, 1e-3 * var);
}

TEST(MlpLearner, SameSeedIsBitIdenticalAndAnotherSeedIsNot) {
  Dataset train = xor_data(400, 5, 3), valid = xor_data(100, 6, 3);
  const Params p = {{"max_epochs", 8}, {"dropout", 0.2}, {"batch_size", "64"}};
  auto a = make_learner("mlp"), b = make_learner("mlp"), c = make_learner("mlp");
  a->fit(fit_data(train, &valid, Task::kBinary, 2), p, seeded(42));
  b->fit(fit_data(train, &valid, Task::kBinary, 2), p, seeded(42));
  c->fit(fit_data(train, &valid, Task::kBinary, 2), p, seeded(43));
  EXPECT_EQ(predict(*a, valid.x), predict(*b, valid.x));
  EXPECT_EQ(a->serialize(), b->serialize());
  EXPECT_NE(predict(*a, valid.x), predict(*c, valid.x));
}

TEST(MlpLearner, SerializeRoundTripGivesIdenticalPredictions) {
  Dataset train = xor_data(300, 7), valid = xor_data(100, 8);
  train.x.at(4, 0) = NAN;  // missing inputs: standardized to 0
  valid.x.at(2, 1) = NAN;
  auto l = make_learner("mlp");
  l->fit(fit_data(train, nullptr, Task::kMulticlass, 3),
         {{"num_layers", 3}, {"width", 32}, {"max_epochs", 5}}, seeded(3));
  auto bytes = l->serialize();
  auto copy = make_learner("mlp");
  copy->deserialize(bytes);
  const auto p = predict(*l, valid.x);
  EXPECT_EQ(p, predict(*copy, valid.x));
  for (float v : p) EXPECT_TRUE(std::isfinite(v));
  bytes.resize(bytes.size() - 4);
  EXPECT_THROW(copy->deserialize(bytes), InputError);
  bytes[0] = 'X';
  EXPECT_THROW(copy->deserialize(bytes), InputError);
}

TEST(MlpLearner, EarlyStoppingKeepsBestEpochAndReportsEachEpoch) {
  // A pure-noise target: validation loss stops improving quickly.
  Dataset train = xor_data(300, 9, 4), valid = xor_data(200, 10, 4);
  std::mt19937 rng(1);
  for (auto& t : train.y) t = float(rng() % 2);
  for (auto& t : valid.y) t = float(rng() % 2);
  std::vector<std::pair<int, double>> reports;
  FitContext ctx = seeded(1);
  ctx.report = [&](int step, double v) {
    reports.emplace_back(step, v);
    return true;
  };
  auto l = make_learner("mlp");
  l->fit(fit_data(train, &valid, Task::kBinary, 2),
         {{"learning_rate", 3e-2}, {"patience", 3}, {"max_epochs", 200}, {"batch_size", "64"}},
         ctx);
  const auto info = l->fit_info();
  EXPECT_EQ(info["stopped"], "early_stopping");
  const int epochs = info["epochs"], best = info["best_epoch"];
  EXPECT_EQ(epochs, best + 3);
  ASSERT_EQ(int(reports.size()), epochs);
  for (int e = 0; e < epochs; ++e) EXPECT_EQ(reports[e].first, e + 1);
  double min_loss = 1e300;
  for (auto& r : reports) min_loss = std::min(min_loss, r.second);
  EXPECT_EQ(reports[best - 1].second, min_loss);
  // The kept weights are the best epoch's: their validation log-loss is the minimum.
  auto p = predict(*l, valid.x);
  double ll = 0;
  for (size_t i = 0; i < valid.y.size(); ++i) ll -= std::log(p[2 * i + int(valid.y[i])]);
  EXPECT_NEAR(ll / valid.y.size(), min_loss, 1e-5);
}

TEST(MlpLearner, PruningReportAndStopTokenEndTraining) {
  Dataset train = xor_data(300, 11), valid = xor_data(100, 12);
  auto pruned = make_learner("mlp");
  FitContext ctx = seeded(2);
  ctx.report = [](int step, double) { return step < 3; };
  pruned->fit(fit_data(train, &valid, Task::kBinary, 2), {}, ctx);
  EXPECT_EQ(pruned->fit_info()["epochs"], 3);
  EXPECT_EQ(pruned->fit_info()["stopped"], "pruned");

  auto stopped = make_learner("mlp");
  FitContext expired = seeded(2);
  expired.stop = StopToken::after_seconds(-1.0);
  stopped->fit(fit_data(train, &valid, Task::kBinary, 2), {}, expired);
  EXPECT_EQ(stopped->fit_info()["epochs"], 1);
  EXPECT_EQ(stopped->fit_info()["stopped"], "stop_token");
  EXPECT_EQ(predict(*stopped, valid.x).size(), 200u);
}

TEST(MlpLearner, NonFiniteLossThrows) {
  Dataset train = wave_data(200, 2, 13);
  train.x.at(5, 0) = INFINITY;  // poisons the standardization, hence the forward pass
  auto l = make_learner("mlp");
  try {
    l->fit(fit_data(train, nullptr, Task::kRegression, 1), {{"max_epochs", 5}}, seeded(1));
    FAIL() << "expected a non-finite loss error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite loss at epoch 1"), std::string::npos)
        << e.what();
  }
}

TEST(MlpLearner, RejectsBadInput) {
  Dataset train = xor_data(50, 14);
  auto l = make_learner("mlp");
  train.y[3] = 5.0f;
  EXPECT_THROW(l->fit(fit_data(train, nullptr, Task::kBinary, 2), {}, {}), InputError);
  train.y[3] = 1.0f;
  EXPECT_THROW(l->fit(fit_data(train, nullptr, Task::kBinary, 2), {{"batch_size", "100"}}, {}),
               InputError);
  Matrix wrong(2, 5);
  std::vector<float> out;
  l->fit(fit_data(train, nullptr, Task::kBinary, 2), {{"max_epochs", 5}}, {});
  EXPECT_THROW(l->predict(wrong.view(), out), InputError);
}

// The size the brief budgets: 3343 x 10, default hyperparameters, 100 epochs, one thread.
TEST(MlpLearner, DefaultTrainingOnAbaloneSizedDataIsFast) {
  Dataset train = wave_data(3343, 10, 15);
  auto l = make_learner("mlp");
  const auto t0 = std::chrono::steady_clock::now();
  l->fit(fit_data(train, nullptr, Task::kRegression, 1), {}, seeded(1));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(l->fit_info()["epochs"], 100);
  EXPECT_LT(s, 5.0);
  RecordProperty("seconds", std::to_string(s));
  std::printf("3343 x 10, 100 epochs: %.2f s\n", s);
}

}  // namespace
}  // namespace tabpilot
