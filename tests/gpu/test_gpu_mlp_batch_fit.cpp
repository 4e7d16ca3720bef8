// fit_mlp_batch on a GPU (one strided-batched run) against the same trials fitted one by one
// on the CPU: the batch must reproduce each trial to FP32 rounding. Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tabpilot/cuda/device.h"
#include "tabpilot/trainer/learner.h"
#include "tabpilot/trainer/mlp_batch.h"

namespace tabpilot {
namespace {

TEST(GpuMlpBatchFit, GpuBatchMatchesCpuFitsTrialByTrial) {
  if (!cuda_compiled() || cuda_devices().empty()) GTEST_SKIP() << "no CUDA device";
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto make = [&](size_t n, Matrix& x, std::vector<float>& y) {
    x = Matrix(n, 5);
    y.resize(n);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < 5; ++j) x.at(i, j) = u(rng);
      y[i] = x.at(i, 0) + x.at(i, 1) * x.at(i, 2) > 0 ? 1.0f : (x.at(i, 3) > 0.5f ? 2.0f : 0.0f);
    }
  };
  Matrix xt, xv;
  std::vector<float> yt, yv;
  make(600, xt, yt);
  make(150, xv, yv);
  FitData data{xt.view(), &yt, xv.view(), &yv, Task::kMulticlass, 3};
  std::vector<Params> params;
  for (double lr : {1e-3, 3e-3, 1e-2, 5e-3})
    params.push_back({{"num_layers", 2}, {"width", 32}, {"batch_size", "128"}, {"max_epochs", 12},
                      {"patience", 4}, {"learning_rate", lr}, {"dropout", 0.0}});
  std::vector<uint64_t> seeds = {11, 12, 13, 14};
  FitContext gpu;
  gpu.device = Device::cuda(0);
  auto batch = fit_mlp_batch(data, params, seeds, gpu);
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(batch[i].learner) << batch[i].error;
    EXPECT_EQ(batch[i].learner->fit_info()["batched_with"], 4);
    auto cpu = make_learner("mlp");
    FitContext c;
    c.seed = seeds[i];
    cpu->fit(data, params[i], c);
    EXPECT_EQ(batch[i].learner->fit_info()["best_epoch"], cpu->fit_info()["best_epoch"]) << i;
    std::vector<float> a, b;
    batch[i].learner->predict(xv.view(), a);
    cpu->predict(xv.view(), b);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 5e-3) << "trial " << i << " value " << j;
  }
}

}  // namespace
}  // namespace tabpilot
