// The "xgboost" learner on synthetic data whose signal is known: it must beat a constant
// predictor by a wide margin, stop early on pure noise, be deterministic for a fixed seed,
// survive a serialize round trip bit for bit, treat NaN as missing, and honour the stop
// token and the report callback.
#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/trainer/learner.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {
namespace {

struct Split {
  Matrix x;
  std::vector<float> y;
};

struct Data {
  Split train, valid, test;
  Task task = Task::kRegression;
  int num_classes = 1;
  FitData fit() const {
    return {train.x.view(), &train.y, valid.x.view(), &valid.y, task, num_classes};
  }
};

constexpr size_t kCols = 4;

// Features uniform in [-2, 2]; `label` maps a row to its target.
template <typename F>
Split make_split(size_t rows, std::mt19937& rng, F label) {
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  Split s{Matrix(rows, kCols), std::vector<float>(rows)};
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < kCols; ++c) s.x.at(r, c) = u(rng);
    s.y[r] = label(s.x.row(r), rng);
  }
  return s;
}

template <typename F>
Data make_data(Task task, int k, F label, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  Data d;
  d.train = make_split(600, rng, label);
  d.valid = make_split(200, rng, label);
  d.test = make_split(300, rng, label);
  d.task = task;
  d.num_classes = k;
  return d;
}

Data regression_data() {
  return make_data(Task::kRegression, 1, [](const float* x, std::mt19937& rng) {
    std::normal_distribution<float> noise(0.0f, 0.1f);
    return 2.0f * std::sin(x[0]) + x[1] * x[1] - x[2] + noise(rng);
  });
}

Data binary_data() {
  return make_data(Task::kBinary, 2, [](const float* x, std::mt19937&) {
    return x[0] * x[1] + x[2] > 0.2f ? 1.0f : 0.0f;
  });
}

Data multiclass_data() {
  return make_data(Task::kMulticlass, 3, [](const float* x, std::mt19937&) {
    float s[3] = {x[0], x[1], -x[0] - x[1] + 0.5f * x[3]};
    return static_cast<float>(std::max_element(s, s + 3) - s);
  });
}

FitContext ctx(int threads = 1, uint64_t seed = 1) {
  FitContext c;
  c.threads = threads;
  c.seed = seed;
  return c;
}

std::vector<float> predict(const Learner& l, const Matrix& x) {
  std::vector<float> out;
  l.predict(x.view(), out);
  return out;
}

const Params kFast = {{"num_round", 200}, {"eta", 0.2}, {"max_depth", 4}};

TEST(XGBoost, RegressionBeatsConstant) {
  Data d = regression_data();
  auto l = make_learner("xgboost");
  EXPECT_EQ(l->name(), "xgboost");
  l->fit(d.fit(), kFast, ctx(/*threads=*/2));
  std::vector<float> p = predict(*l, d.test.x);
  ASSERT_EQ(p.size(), d.test.y.size());
  double mean = 0;
  for (float v : d.train.y) mean += v;
  std::vector<float> constant(d.test.y.size(), static_cast<float>(mean / d.train.y.size()));
  double model = compute_metric(Metric::kMSE, Task::kRegression, d.test.y, p, 1);
  double base = compute_metric(Metric::kMSE, Task::kRegression, d.test.y, constant, 1);
  EXPECT_LT(model, 0.1 * base) << "model " << model << " constant " << base;
}

TEST(XGBoost, BinaryBeatsPrior) {
  Data d = binary_data();
  auto l = make_learner("xgboost");
  l->fit(d.fit(), kFast, ctx());
  std::vector<float> p = predict(*l, d.test.x);
  ASSERT_EQ(p.size(), 2 * d.test.y.size());
  for (size_t i = 0; i < d.test.y.size(); ++i) EXPECT_NEAR(p[2 * i] + p[2 * i + 1], 1.0f, 1e-6);
  double pos = 0;
  for (float v : d.train.y) pos += v;
  pos /= d.train.y.size();
  std::vector<float> prior;
  for (size_t i = 0; i < d.test.y.size(); ++i)
    prior.insert(prior.end(), {float(1 - pos), float(pos)});
  auto m = [&](Metric metric, const std::vector<float>& q) {
    return compute_metric(metric, Task::kBinary, d.test.y, q, 2);
  };
  EXPECT_LT(m(Metric::kLogLoss, p), 0.5 * m(Metric::kLogLoss, prior));
  EXPECT_GT(m(Metric::kAccuracy, p), 0.88);
  EXPECT_GT(m(Metric::kAUC, p), 0.95);
}

TEST(XGBoost, MulticlassBeatsMajority) {
  Data d = multiclass_data();
  auto l = make_learner("xgboost");
  l->fit(d.fit(), kFast, ctx());
  std::vector<float> p = predict(*l, d.test.x);
  ASSERT_EQ(p.size(), 3 * d.test.y.size());
  for (size_t i = 0; i < d.test.y.size(); ++i)
    EXPECT_NEAR(p[3 * i] + p[3 * i + 1] + p[3 * i + 2], 1.0f, 1e-5);
  std::vector<float> uniform(p.size(), 1.0f / 3);
  double acc = compute_metric(Metric::kAccuracy, Task::kMulticlass, d.test.y, p, 3);
  double ll = compute_metric(Metric::kLogLoss, Task::kMulticlass, d.test.y, p, 3);
  double ll0 = compute_metric(Metric::kLogLoss, Task::kMulticlass, d.test.y, uniform, 3);
  EXPECT_GT(acc, 0.85);
  EXPECT_LT(ll, 0.4 * ll0);
}

TEST(XGBoost, EarlyStoppingOnNoise) {
  Data d = make_data(Task::kRegression, 1, [](const float*, std::mt19937& rng) {
    return std::normal_distribution<float>(0.0f, 1.0f)(rng);
  });
  auto l = make_learner("xgboost");
  l->fit(d.fit(), {{"num_round", 500}, {"early_stopping_rounds", 10}}, ctx());
  nlohmann::json info = l->fit_info();
  int rounds = info.at("rounds"), best = info.at("best_iteration");
  EXPECT_LT(rounds, 100);
  // Training ran exactly `early_stopping_rounds` rounds past the best one.
  EXPECT_EQ(rounds - 1 - best, 10);
}

TEST(XGBoost, PredictsWithTheBestIterationOnly) {
  Data d = make_data(Task::kRegression, 1, [](const float* x, std::mt19937& rng) {
    return std::sin(x[0]) + std::normal_distribution<float>(0.0f, 0.5f)(rng);
  });
  std::vector<double> values;
  FitContext c = ctx();
  c.report = [&](int, double v) {
    values.push_back(v);
    return true;
  };
  auto l = make_learner("xgboost");
  // eta 0.5 and deep trees overfit quickly, so the best round is well before the last.
  l->fit(d.fit(),
         {{"num_round", 300},
          {"eta", 0.5},
          {"max_depth", 12},
          {"min_child_weight", 0.01},
          {"early_stopping_rounds", 5}},
         c);
  int best = l->fit_info().at("best_iteration");
  ASSERT_EQ(values.size(), static_cast<size_t>(l->fit_info().at("rounds").get<int>()));
  // The reported value is the validation RMSE; predicting the validation set reproduces the
  // best one, not the last one.
  std::vector<float> p = predict(*l, d.valid.x);
  double rmse = compute_metric(Metric::kRMSE, Task::kRegression, d.valid.y, p, 1);
  EXPECT_NEAR(rmse, values[best], 1e-4);
  EXPECT_EQ(*std::min_element(values.begin(), values.end()), values[best]);
  EXPECT_GT(values.back() - values[best], 1e-3);  // so the check above can tell them apart
}

TEST(XGBoost, DeterministicForSeedAndSeedMatters) {
  Data d = binary_data();
  Params p = {{"num_round", 60}, {"subsample", 0.6}, {"colsample_bytree", 0.5}};
  auto run = [&](uint64_t seed) {
    auto l = make_learner("xgboost");
    l->fit(d.fit(), p, ctx(1, seed));
    return predict(*l, d.test.x);
  };
  std::vector<float> a = run(42), b = run(42), c = run(43);
  EXPECT_EQ(a, b);  // bit for bit
  EXPECT_NE(a, c);  // row and column sampling follow the seed
}

TEST(XGBoost, SerializeRoundTrip) {
  Data d = multiclass_data();
  auto l = make_learner("xgboost");
  l->fit(d.fit(), {{"num_round", 80}, {"early_stopping_rounds", 5}}, ctx());
  std::vector<uint8_t> bytes = l->serialize();
  auto restored = make_learner("xgboost");
  restored->deserialize(bytes);
  EXPECT_EQ(predict(*restored, d.test.x), predict(*l, d.test.x));
  EXPECT_EQ(restored->fit_info(), l->fit_info());
  EXPECT_EQ(restored->serialize(), bytes);

  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  EXPECT_THROW(restored->deserialize(bad), InputError);
  EXPECT_THROW(restored->deserialize({}), InputError);
  std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + bytes.size() / 2);
  EXPECT_THROW(restored->deserialize(truncated), std::runtime_error);
}

TEST(XGBoost, NaNIsMissing) {
  // Where x0 is missing the target is 5; elsewhere it is x0 (in [-2, 2]). If NaN were read as
  // 0, the missing rows and the x0 = 0 rows could not both be right.
  Data d = make_data(Task::kRegression, 1, [](const float*, std::mt19937&) { return 0.0f; });
  std::mt19937 rng(3);
  for (Split* s : {&d.train, &d.valid}) {
    for (size_t r = 0; r < s->y.size(); ++r) {
      if (rng() % 4 == 0) s->x.at(r, 0) = std::nanf("");
      s->y[r] = std::isnan(s->x.at(r, 0)) ? 5.0f : s->x.at(r, 0);
    }
  }
  auto l = make_learner("xgboost");
  l->fit(d.fit(), kFast, ctx());
  Matrix q(2, kCols, 0.0f);
  q.at(0, 0) = std::nanf("");
  std::vector<float> p = predict(*l, q);
  EXPECT_NEAR(p[0], 5.0f, 0.3f);
  EXPECT_NEAR(p[1], 0.0f, 0.3f);
}

TEST(XGBoost, StopTokenHonoured) {
  Data d = regression_data();
  std::atomic<bool> cancel{true};
  FitContext c = ctx();
  c.stop = StopToken::after_seconds(1e9, &cancel);
  auto l = make_learner("xgboost");
  l->fit(d.fit(), kFast, c);
  EXPECT_EQ(l->fit_info().at("rounds"), 1);
  std::vector<float> p = predict(*l, d.test.x);  // a usable one-round model
  EXPECT_EQ(p.size(), d.test.y.size());
}

TEST(XGBoost, ReportStepsIncreaseAndFalseStops) {
  Data d = binary_data();
  std::vector<int> steps;
  FitContext c = ctx();
  c.report = [&](int step, double value) {
    EXPECT_TRUE(std::isfinite(value));
    steps.push_back(step);
    return step < 4;
  };
  auto l = make_learner("xgboost");
  l->fit(d.fit(), kFast, c);
  EXPECT_EQ(steps, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(l->fit_info().at("rounds"), 5);
}

TEST(XGBoost, NoValidationSetTrainsAllRounds) {
  Data d = regression_data();
  FitData f = d.fit();
  f.x_valid = MatrixView{};
  f.y_valid = nullptr;
  auto l = make_learner("xgboost");
  l->fit(f, {{"num_round", 15}}, ctx());
  EXPECT_EQ(l->fit_info(), (nlohmann::json{{"best_iteration", 14}, {"rounds", 15}}));
}

TEST(XGBoost, StridedViewsAndConcurrentPredict) {
  Data d = regression_data();
  auto l = make_learner("xgboost");
  l->fit(d.fit(), kFast, ctx());
  std::vector<float> want = predict(*l, d.test.x);
  // The same rows inside a wider buffer (stride 7), with garbage in the padding.
  const size_t stride = 7;
  std::vector<float> wide(d.test.x.rows() * stride, 1e30f);
  for (size_t r = 0; r < d.test.x.rows(); ++r)
    std::copy(d.test.x.row(r), d.test.x.row(r) + kCols, wide.data() + r * stride);
  std::vector<float> got;
  l->predict(MatrixView{wide.data(), d.test.x.rows(), kCols, stride, Device::cpu()}, got);
  EXPECT_EQ(got, want);

  const Learner& shared = *l;
  std::vector<std::vector<float>> outs(4);
  std::vector<std::thread> threads;
  for (auto& out : outs)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) shared.predict(d.test.x.view(), out);
    });
  for (auto& t : threads) t.join();
  for (const auto& out : outs) EXPECT_EQ(out, want);
}

TEST(XGBoost, BadInputIsRejected) {
  Data d = binary_data();
  auto l = make_learner("xgboost");
  EXPECT_THROW(l->fit(d.fit(), {{"max_depth", 50}}, ctx()), InputError);
  EXPECT_THROW(l->fit(d.fit(), {{"depth", 3}}, ctx()), InputError);
  Data bad = d;
  bad.train.y[3] = 2.0f;  // not a class of a binary task
  EXPECT_THROW(l->fit(bad.fit(), kFast, ctx()), InputError);
  std::vector<float> out;
  EXPECT_THROW(l->predict(d.test.x.view(), out), std::logic_error);
  l->fit(d.fit(), {{"num_round", 10}}, ctx());
  Matrix narrow(3, kCols - 1);
  EXPECT_THROW(l->predict(narrow.view(), out), std::invalid_argument);
}

bool xgboost_built_with_cuda() {
  const char* info = nullptr;
  if (XGBuildInfo(&info) != 0) return false;
  return nlohmann::json::parse(info).value("USE_CUDA", false);
}

TEST(XGBoost, CudaRequestWithoutCudaBuildTrainsOnCpu) {
  if (xgboost_built_with_cuda()) GTEST_SKIP() << "libxgboost has CUDA; see the Gpu test";
  Data d = regression_data();
  FitContext cpu = ctx(1, 5), gpu = ctx(1, 5);
  gpu.device = Device::cuda(0);
  auto a = make_learner("xgboost"), b = make_learner("xgboost");
  a->fit(d.fit(), {{"num_round", 30}}, cpu);
  b->fit(d.fit(), {{"num_round", 30}}, gpu);
  EXPECT_EQ(predict(*a, d.test.x), predict(*b, d.test.x));
}

// Runs where both this build and libxgboost have CUDA and a GPU is visible; skips otherwise.
TEST(XGBoostGpu, GpuHistMatchesCpuQuality) {
  if (cuda_devices().empty()) GTEST_SKIP() << "no CUDA device visible to this build";
  if (!xgboost_built_with_cuda()) GTEST_SKIP() << "libxgboost was built without CUDA";
  Data d = regression_data();
  FitContext cpu = ctx(), gpu = ctx();
  gpu.device = Device::cuda(0);
  auto a = make_learner("xgboost"), b = make_learner("xgboost");
  a->fit(d.fit(), kFast, cpu);
  b->fit(d.fit(), kFast, gpu);
  double mse_cpu =
      compute_metric(Metric::kMSE, Task::kRegression, d.test.y, predict(*a, d.test.x), 1);
  double mse_gpu =
      compute_metric(Metric::kMSE, Task::kRegression, d.test.y, predict(*b, d.test.x), 1);
  EXPECT_LT(mse_gpu, 1.2 * mse_cpu + 1e-3);
}

}  // namespace
}  // namespace tabpilot
