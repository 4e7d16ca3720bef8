// The device MLP trainer against the CPU learner it replays, and trial batching against single
// runs. Tolerances (FP32): the CPU and GPU differ only in GEMM summation order (~1e-7 relative
// per product), which Adam carries along; after ~50 steps predictions agree to 1e-2 + 1e-3 |y|
// in target units (regression, noise sd 1) and 5e-3 in probability, per-epoch losses to 2e-3
// relative, and the best epoch exactly (the chosen data sets have a > 2% margin at the best
// epoch, measured on the CPU). A batch of K and K single runs use different GEMM batch counts,
// so they are held to 1e-4 + 1e-3 relative on weights after a few epochs; a mixed-width batch
// (grouped GEMMs) is held to the same tolerance against its trials' single runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "tabpilot/common/error.h"
#include "tabpilot/cuda/memory_pool.h"
#include "tabpilot/kernels/mlp_train_cuda.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

using testing::expect_near_all;
using testing::gpu0;

struct Dataset {
  Matrix x;
  std::vector<float> y;
};

// y = 10 + 3 sin(3 x0) + 2 x1^2 + noise on [-1, 1]^cols.
Dataset wave(size_t n, size_t cols, uint32_t seed, float noise) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::normal_distribution<float> g(0, 1);
  Dataset d{Matrix(n, cols), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < cols; ++j) d.x.at(i, j) = u(rng);
    d.y[i] = 10.0f + 3.0f * std::sin(3.0f * d.x.at(i, 0)) + 2.0f * d.x.at(i, 1) * d.x.at(i, 1) +
             noise * g(rng);
  }
  return d;
}

// Three classes: argmax of (x0, 2 x1 x2, 0.3), each with noise.
Dataset three_class(size_t n, size_t cols, uint32_t seed, float noise) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::normal_distribution<float> g(0, 1);
  Dataset d{Matrix(n, cols), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < cols; ++j) d.x.at(i, j) = u(rng);
    const float s0 = d.x.at(i, 0) + noise * g(rng);
    const float s1 = 2.0f * d.x.at(i, 1) * d.x.at(i, 2) + noise * g(rng);
    const float s2 = 0.3f + noise * g(rng);
    d.y[i] = s0 > s1 && s0 > s2 ? 0.0f : (s1 > s2 ? 1.0f : 2.0f);
  }
  return d;
}

struct Fitted {
  std::vector<float> pred;
  std::vector<double> losses;
  nlohmann::json info;
};

Fitted fit_learner(Device device, const Dataset& tr, const Dataset& va, Task task, int classes,
                   const Params& p) {
  auto l = make_learner("mlp");
  FitData f;
  f.x_train = tr.x.view(), f.y_train = &tr.y;
  f.x_valid = va.x.view(), f.y_valid = &va.y;
  f.task = task, f.num_classes = classes;
  FitContext c;
  c.seed = 11;
  c.device = device;
  Fitted out;
  c.report = [&out](int, double v) {
    out.losses.push_back(v);
    return true;
  };
  l->fit(f, p, c);
  l->predict(va.x.view(), out.pred);
  out.info = l->fit_info();
  return out;
}

void expect_same_training(const Fitted& gpu, const Fitted& cpu, double abs_tol, double rel_tol) {
  EXPECT_EQ(gpu.info["device"], "cuda:0");
  EXPECT_EQ(cpu.info["device"], "cpu");
  EXPECT_EQ(gpu.info["best_epoch"], cpu.info["best_epoch"]);
  EXPECT_EQ(gpu.info["epochs"], cpu.info["epochs"]);
  EXPECT_EQ(gpu.info["stopped"], cpu.info["stopped"]);
  ASSERT_EQ(gpu.losses.size(), cpu.losses.size());
  for (size_t e = 0; e < cpu.losses.size(); ++e)
    EXPECT_NEAR(gpu.losses[e], cpu.losses[e], 2e-3 * cpu.losses[e]) << "epoch " << e + 1;
  expect_near_all(gpu.pred, cpu.pred, abs_tol, rel_tol, "predictions");
}

TEST(GpuMlpTrain, RegressionReplaysTheCpuLearner) {
  TABPILOT_REQUIRE_GPU();
  const Dataset tr = wave(300, 8, 1, 1.0f), va = wave(300, 8, 2, 1.0f);
  // On the CPU: best epoch 9 (3.048 vs 3.126 next best), early stop at 12.
  const Params p = {{"width", 64},           {"num_layers", 2},     {"dropout", 0.1},
                    {"learning_rate", 3e-2}, {"batch_size", "64"}, {"max_epochs", 40},
                    {"patience", 3}};
  const Fitted cpu = fit_learner(Device::cpu(), tr, va, Task::kRegression, 1, p);
  const Fitted gpu = fit_learner(gpu0(), tr, va, Task::kRegression, 1, p);
  EXPECT_EQ(cpu.info["stopped"], "early_stopping");
  expect_same_training(gpu, cpu, 1e-2, 1e-3);
}

TEST(GpuMlpTrain, MulticlassReplaysTheCpuLearner) {
  TABPILOT_REQUIRE_GPU();
  const Dataset tr = three_class(400, 5, 3, 0.3f), va = three_class(300, 5, 4, 0.3f);
  // On the CPU: best epoch 5 (0.582 vs 0.602 next best), early stop at 8.
  const Params p = {{"width", 32},           {"num_layers", 2},     {"dropout", 0.2},
                    {"learning_rate", 3e-2}, {"batch_size", "64"}, {"max_epochs", 40},
                    {"patience", 3}};
  const Fitted cpu = fit_learner(Device::cpu(), tr, va, Task::kMulticlass, 3, p);
  const Fitted gpu = fit_learner(gpu0(), tr, va, Task::kMulticlass, 3, p);
  expect_same_training(gpu, cpu, 5e-3, 0.0);
}

// Raw (already standardized) data for the direct API.
struct RawData {
  std::vector<float> x, y, xv, yv;
  MlpTrainData view(int dim) const {
    MlpTrainData d;
    d.dim = dim;
    d.x_train = x.data(), d.y_train = y.data(), d.n_train = y.size();
    d.x_valid = xv.data(), d.y_valid = yv.data(), d.n_valid = yv.size();
    return d;
  }
};

RawData raw_regression(size_t n, size_t nv, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  RawData r;
  auto fill = [&](std::vector<float>& x, std::vector<float>& y, size_t rows) {
    x.resize(rows * dim), y.resize(rows);
    for (size_t i = 0; i < rows; ++i) {
      for (int c = 0; c < dim; ++c) x[i * dim + c] = g(rng);
      y[i] = std::sin(2.0f * x[i * dim]) + 0.5f * x[i * dim + 1] * x[i * dim + 2] + 0.3f * g(rng);
    }
  };
  fill(r.x, r.y, n);
  fill(r.xv, r.yv, nv);
  return r;
}

std::vector<MlpTrialSpec> four_trials() {
  std::vector<MlpTrialSpec> specs(4);
  const float lrs[] = {1e-3f, 3e-3f, 1e-2f, 2e-3f}, wds[] = {0.0f, 1e-4f, 1e-3f, 1e-2f};
  const float drops[] = {0.0f, 0.1f, 0.25f, 0.4f};
  for (int k = 0; k < 4; ++k) {
    specs[k].num_hidden = 2, specs[k].width = 48, specs[k].batch_size = 128;
    specs[k].learning_rate = lrs[k], specs[k].weight_decay = wds[k], specs[k].dropout = drops[k];
    specs[k].seed = 100 + k;
  }
  return specs;
}

void expect_same_trial(const MlpTrialResult& a, const MlpTrialResult& b, const char* what) {
  EXPECT_EQ(a.epochs, b.epochs) << what;
  EXPECT_EQ(a.best_epoch, b.best_epoch) << what;
  EXPECT_EQ(a.stopped, b.stopped) << what;
  ASSERT_EQ(a.w.size(), b.w.size()) << what;
  for (size_t l = 0; l < a.w.size(); ++l) {
    expect_near_all(a.w[l], b.w[l], 1e-4, 1e-3, what);
    expect_near_all(a.b[l], b.b[l], 1e-4, 1e-3, what);
  }
}

TEST(GpuMlpTrain, BatchOfFourEqualsFourSingleRuns) {
  TABPILOT_REQUIRE_GPU();
  const RawData raw = raw_regression(1000, 300, 10, 5);
  const MlpTrainData data = raw.view(10);
  MlpTrainOptions o;
  o.max_epochs = 4;
  const auto specs = four_trials();
  const auto batch = train_mlp_batch_cuda(specs, data, o);
  ASSERT_EQ(batch.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    const MlpTrialResult single = train_mlp_cuda(specs[k], data, o);
    expect_same_trial(batch[k], single, ("trial " + std::to_string(k)).c_str());
  }
  // The same batch again is bit for bit the same (fixed-order reductions, same GEMMs).
  const auto again = train_mlp_batch_cuda(specs, data, o);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(again[k].w, batch[k].w) << "trial " << k;
}

TEST(GpuMlpTrain, TrialsStopEarlyOneByOneInsideABatch) {
  TABPILOT_REQUIRE_GPU();
  const RawData raw = raw_regression(400, 400, 10, 9);
  const MlpTrainData data = raw.view(10);
  MlpTrainOptions o;
  o.max_epochs = 12;
  o.patience = 2;
  auto specs = four_trials();
  specs[0].learning_rate = 1e-4f;  // slow and steady: runs to max_epochs
  specs[2].learning_rate = 3e-2f;  // overfits 400 rows quickly: stops early
  // Trial 3 is pruned by the caller after its third epoch.
  o.on_epoch = [](int trial, int epoch, double) {
    return trial == 3 && epoch == 3 ? std::string("pruned") : std::string();
  };
  const auto batch = train_mlp_batch_cuda(specs, data, o);
  EXPECT_EQ(batch[0].stopped, "max_epochs");
  EXPECT_EQ(batch[0].epochs, 12);
  EXPECT_EQ(batch[2].stopped, "early_stopping");
  EXPECT_EQ(batch[2].epochs, batch[2].best_epoch + o.patience);
  EXPECT_LT(batch[2].epochs, 12);
  EXPECT_EQ(batch[3].stopped, "pruned");
  EXPECT_EQ(batch[3].epochs, 3);
  EXPECT_EQ(batch[3].losses.size(), 3u);
  for (int k = 0; k < 4; ++k) {
    MlpTrainOptions single = o;
    single.on_epoch = [k, &o](int, int epoch, double loss) { return o.on_epoch(k, epoch, loss); };
    expect_same_trial(batch[k], train_mlp_cuda(specs[k], data, single),
                      ("trial " + std::to_string(k)).c_str());
  }
}

TEST(GpuMlpTrain, NoCudaMallocOnceTrainingStarts) {
  TABPILOT_REQUIRE_GPU();
  const RawData raw = raw_regression(2000, 500, 10, 3);
  MlpTrainOptions o;
  o.max_epochs = 3;
  MlpTrainStats stats;
  train_mlp_batch_cuda(four_trials(), raw.view(10), o, &stats);
  EXPECT_EQ(stats.cuda_mallocs_in_loop, 0u);
  EXPECT_GT(stats.pool_bytes, 0u);
  EXPECT_EQ(stats.epoch_seconds.size(), 3u);
  // A second run on the same thread reuses the leased stream's cached blocks: no cudaMalloc.
  MemoryPool& pool = MemoryPool::for_device(gpu0());
  const size_t before = pool.stats().cuda_malloc_calls;
  train_mlp_batch_cuda(four_trials(), raw.view(10), o, &stats);
  EXPECT_EQ(pool.stats().cuda_malloc_calls, before);
}

TEST(GpuMlpTrain, MixedWidthBatchMatchesSingleRuns) {
  TABPILOT_REQUIRE_GPU();
  const RawData raw = raw_regression(1000, 300, 10, 5);
  const MlpTrainData data = raw.view(10);
  MlpTrainOptions o;
  o.max_epochs = 4;
  auto specs = four_trials();
  const int widths[] = {16, 48, 32, 64};
  for (int k = 0; k < 4; ++k) specs[k].width = widths[k];
  std::vector<int> reported;  // on_epoch sees the caller's trial indices
  o.on_epoch = [&reported](int trial, int epoch, double) {
    if (epoch == 1) reported.push_back(trial);
    return std::string();
  };
  MlpTrainStats stats;
  const auto batch = train_mlp_batch_cuda(specs, data, o, &stats);
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(stats.cuda_mallocs_in_loop, 0u);
  std::sort(reported.begin(), reported.end());
  EXPECT_EQ(reported, (std::vector<int>{0, 1, 2, 3}));
  o.on_epoch = nullptr;
  for (int k = 0; k < 4; ++k) {
    ASSERT_EQ(batch[k].w.size(), 3u);
    EXPECT_EQ(batch[k].w[0].size(), static_cast<size_t>(widths[k]) * 10) << "trial " << k;
    EXPECT_EQ(batch[k].w[1].size(), static_cast<size_t>(widths[k]) * widths[k]);
    EXPECT_EQ(batch[k].w[2].size(), static_cast<size_t>(widths[k]));
    const MlpTrialResult single = train_mlp_cuda(specs[k], data, o);
    expect_same_trial(batch[k], single, ("trial " + std::to_string(k)).c_str());
    for (size_t e = 0; e < single.losses.size(); ++e)
      EXPECT_NEAR(batch[k].losses[e], single.losses[e], 2e-3 * single.losses[e]);
  }
  // Early stopping inside a mixed batch: trial 2 (width 32) overfits 400 rows and stops alone.
  const RawData small = raw_regression(400, 400, 10, 9);
  MlpTrainOptions es;
  es.max_epochs = 12;
  es.patience = 2;
  specs[2].learning_rate = 3e-2f;
  const auto stopped = train_mlp_batch_cuda(specs, small.view(10), es);
  for (int k = 0; k < 4; ++k)
    expect_same_trial(stopped[k], train_mlp_cuda(specs[k], small.view(10), es),
                      ("early-stopping trial " + std::to_string(k)).c_str());
}

TEST(GpuMlpTrain, RejectsTrialsOfDifferentShapesWithTheReason) {
  TABPILOT_REQUIRE_GPU();
  const RawData raw = raw_regression(100, 0, 4, 1);
  auto specs = four_trials();
  specs[2].batch_size = 64;
  specs[3].width = 64;  // widths may differ: not the reason
  try {
    train_mlp_batch_cuda(specs, raw.view(4), MlpTrainOptions{});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("trial 2 has batch_size 64 but trial 0 has 128"), std::string::npos) << m;
    EXPECT_NE(m.find("split the trials by shape"), std::string::npos) << m;
  }
  specs = four_trials();
  specs[1].num_hidden = 3;
  EXPECT_THROW(train_mlp_batch_cuda(specs, raw.view(4), MlpTrainOptions{}), InputError);
}

// Runs everywhere: without a GPU, asking for CUDA trains on the CPU and says why.
TEST(GpuMlpTrainFallback, CudaRequestWithoutAGpuTrainsOnTheCpuAndSaysWhy) {
  if (cuda_compiled() && !cuda_devices().empty()) GTEST_SKIP() << "a GPU is present";
  const Dataset tr = wave(200, 3, 1, 0.1f), va = wave(100, 3, 2, 0.1f);
  const Params p = {{"width", 16}, {"max_epochs", 5}};
  const Fitted asked = fit_learner(gpu0(), tr, va, Task::kRegression, 1, p);
  const Fitted cpu = fit_learner(Device::cpu(), tr, va, Task::kRegression, 1, p);
  EXPECT_EQ(asked.info["device"], "cpu");
  EXPECT_NE(asked.info["note"].get<std::string>().find("trained on the CPU"), std::string::npos);
  EXPECT_EQ(asked.pred, cpu.pred);  // the same CPU run, bit for bit
}

}  // namespace
}  // namespace tabpilot
