// fit_mlp_batch: K trials that share num_layers, batch_size, max_epochs and patience (widths
// may differ). Off the GPU a batch is K ordinary fits, so it must equal them bit for bit;
// mismatched shared keys are refused. (The GPU batch is held against the CPU in tests/gpu.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner.h"
#include "tabpilot/trainer/mlp_batch.h"

namespace tabpilot {
namespace {

struct Wave {
  Matrix x;
  std::vector<float> y;
};

Wave wave(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Wave d{Matrix(n, 4), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < 4; ++j) d.x.at(i, j) = u(rng);
    d.y[i] = 3.0f * std::sin(3.0f * d.x.at(i, 0)) + d.x.at(i, 1) * d.x.at(i, 2);
  }
  return d;
}

std::vector<Params> three_trials() {
  Params base = {{"num_layers", 2}, {"width", 32}, {"batch_size", "64"},
                 {"max_epochs", 15}, {"patience", 5}};
  std::vector<Params> out;
  for (double lr : {3e-3, 1e-3, 1e-2}) {
    Params p = base;
    p["learning_rate"] = lr;
    p["dropout"] = lr > 2e-3 ? 0.1 : 0.0;
    out.push_back(p);
  }
  return out;
}

// Each batch trial against the same trial fitted alone: the same predictions, bit for bit.
void expect_batch_equals_single_fits(const FitData& data, const std::vector<Params>& params,
                                     const std::vector<uint64_t>& seeds, const Matrix& probe) {
  auto batch = fit_mlp_batch(data, params, seeds, FitContext{});
  ASSERT_EQ(batch.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(batch[i].learner) << batch[i].error;
    auto single = make_learner("mlp");
    FitContext c;
    c.seed = seeds[i];
    single->fit(data, params[i], c);
    std::vector<float> a, b;
    batch[i].learner->predict(probe.view(), a);
    single->predict(probe.view(), b);
    EXPECT_EQ(a, b) << "trial " << i;
  }
}

TEST(MlpBatch, OffTheGpuABatchIsKOrdinaryFitsBitForBit) {
  Wave train = wave(400, 1), valid = wave(100, 2);
  FitData data{train.x.view(), &train.y, valid.x.view(), &valid.y, Task::kRegression, 1};
  auto params = three_trials();
  std::vector<uint64_t> seeds = {5, 6, 7};
  expect_batch_equals_single_fits(data, params, seeds, valid.x);
  auto batch = fit_mlp_batch(data, params, seeds, FitContext{});
  // Different learning rates really give different models.
  std::vector<float> p0, p1;
  batch[0].learner->predict(valid.x.view(), p0);
  batch[1].learner->predict(valid.x.view(), p1);
  EXPECT_NE(p0, p1);
}

TEST(MlpBatch, MixedWidthsAreAcceptedAndEachTrialEqualsItsSingleFit) {
  Wave train = wave(300, 3), valid = wave(80, 4);
  FitData data{train.x.view(), &train.y, valid.x.view(), &valid.y, Task::kRegression, 1};
  auto params = three_trials();
  for (size_t i = 0; i < params.size(); ++i) {
    params[i]["width"] = std::vector<int>{16, 48, 24}[i];
    params[i]["max_epochs"] = 6;
  }
  expect_batch_equals_single_fits(data, params, {8, 9, 10}, valid.x);
  // The width really is per trial: the wider the model, the more bytes it serializes to.
  auto batch = fit_mlp_batch(data, params, {8, 9, 10}, FitContext{});
  for (const auto& r : batch) ASSERT_TRUE(r.learner) << r.error;
  const size_t b16 = batch[0].learner->serialize().size();
  const size_t b48 = batch[1].learner->serialize().size();
  const size_t b24 = batch[2].learner->serialize().size();
  EXPECT_LT(b16, b24);
  EXPECT_LT(b24, b48);
}

TEST(MlpBatch, MismatchedShapesAreRefusedNamingTheParameter) {
  Wave train = wave(50, 1);
  FitData data{train.x.view(), &train.y, MatrixView{}, nullptr, Task::kRegression, 1};
  auto params = three_trials();
  params[2]["batch_size"] = "128";
  try {
    fit_mlp_batch(data, params, {1, 2, 3}, FitContext{});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("trial 2 has batch_size"), std::string::npos)
        << e.what();
  }
  params = three_trials();
  params[1]["num_layers"] = 3;
  EXPECT_THROW(fit_mlp_batch(data, params, {1, 2, 3}, FitContext{}), InputError);
  EXPECT_THROW(fit_mlp_batch(data, three_trials(), {1, 2}, FitContext{}), std::invalid_argument);
}

TEST(MlpBatch, AStoppedBatchReportsTheTrialsItDidNotStart) {
  Wave train = wave(200, 1), valid = wave(50, 2);
  FitData data{train.x.view(), &train.y, valid.x.view(), &valid.y, Task::kRegression, 1};
  FitContext ctx;
  ctx.stop = StopToken::after_seconds(-1);  // already past
  auto out = fit_mlp_batch(data, three_trials(), {1, 2, 3}, ctx);
  EXPECT_TRUE(out[0].learner);  // a fit always finishes its first epoch
  EXPECT_FALSE(out[1].learner);
  EXPECT_FALSE(out[2].error.empty());
}

}  // namespace
}  // namespace tabpilot
