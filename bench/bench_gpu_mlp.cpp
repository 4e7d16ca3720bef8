// The device MLP trainer: (a) one training epoch of 3 hidden layers of 256 on 1M rows x 100
// features, batch 1024, regression, FP32 and TF32 (seconds per epoch and rows/s; the mean of
// epochs 2-3, validation on 10k rows included, uploads excluded); (b) K = 1, 8, 64 trials of
// 2 hidden layers of 128 on 50k x 100 (5k validation rows), batch 1024, 5 epochs, trained as
// one batch (trials/s over the whole call, uploads included). bench/torch_mlp_reference.py
// runs the same workloads in PyTorch; bench/gpu_check.sh puts the two side by side.
// Without a GPU every benchmark reports an error and the binary exits 0.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/kernels/mlp_ops.h"
#include "tabpilot/kernels/mlp_train_cuda.h"

namespace tabpilot {
namespace {

constexpr int kDim = 100;

struct Data {
  std::vector<float> x, y, xv, yv;
  MlpTrainData view() const {
    MlpTrainData d;
    d.dim = kDim;
    d.x_train = x.data(), d.y_train = y.data(), d.n_train = y.size();
    d.x_valid = xv.data(), d.y_valid = yv.data(), d.n_valid = yv.size();
    return d;
  }
};

// Uniform features in [-1.7, 1.7] (unit variance) from the counter hash, and a smooth target.
void fill(std::vector<float>& x, std::vector<float>& y, size_t rows, uint64_t seed) {
  x.resize(rows * kDim), y.resize(rows);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 3.4641f * (uniform_from_hash(mix_hash(seed, i)) - 0.5f);
  for (size_t r = 0; r < rows; ++r) {
    const float* f = x.data() + r * kDim;
    y[r] = std::sin(f[0]) + 0.5f * f[1] * f[2] - 0.3f * f[3];
  }
}

// Builds the data set once per shape; reports why when there is no GPU.
const Data* data_for(benchmark::State& state, size_t rows, size_t valid_rows) {
  static std::string error;
  if (error.empty()) {
    if (!cuda_compiled())
      error = "built without -DTABPILOT_CUDA=ON";
    else if (cuda_devices().empty())
      error = "no CUDA device visible";
  }
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return nullptr;
  }
  static std::vector<std::pair<size_t, Data*>> sets;  // never destroyed, like the fixtures
  for (auto& [n, d] : sets)
    if (n == rows) return d;
  auto* d = new Data;
  fill(d->x, d->y, rows, 1);
  fill(d->xv, d->yv, valid_rows, 2);
  sets.emplace_back(rows, d);
  benchmark::AddCustomContext("gpu", cuda_devices().front().name);
  return d;
}

void BM_GpuMlpEpoch(benchmark::State& state) {
  const Data* d = data_for(state, 1'000'000, 10'000);
  if (!d) return;
  MlpTrialSpec spec;
  spec.num_hidden = 3, spec.width = 256, spec.batch_size = 1024;
  spec.learning_rate = 1e-3f, spec.weight_decay = 1e-5f, spec.dropout = 0.1f;
  MlpTrainOptions o;
  o.max_epochs = 3;
  o.patience = 100;
  o.tf32 = state.range(0) != 0;
  double per_epoch = 0.0;
  for (auto _ : state) {
    MlpTrainStats stats;
    train_mlp_cuda(spec, d->view(), o, &stats);
    const auto& e = stats.epoch_seconds;  // epoch 1 pays the GEMM heuristics and clocks
    per_epoch = e.size() > 1 ? std::accumulate(e.begin() + 1, e.end(), 0.0) / (e.size() - 1)
                             : e.front();
    state.SetIterationTime(per_epoch);
  }
  state.counters["sec_per_epoch"] = per_epoch;
  state.counters["rows_per_s"] = static_cast<double>(d->y.size()) / per_epoch;
}
BENCHMARK(BM_GpuMlpEpoch)
    ->ArgName("tf32")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_GpuMlpTrialBatch(benchmark::State& state) {
  const Data* d = data_for(state, 50'000, 5'000);
  if (!d) return;
  const int k = static_cast<int>(state.range(0));
  std::vector<MlpTrialSpec> specs(k);
  for (int t = 0; t < k; ++t) {
    MlpTrialSpec& s = specs[t];
    s.num_hidden = 2, s.width = 128, s.batch_size = 1024;
    const double u = uniform_from_hash(mix_hash(7, t));
    s.learning_rate = static_cast<float>(1e-4 * std::pow(300.0, u));  // 1e-4 .. 3e-2
    s.weight_decay = static_cast<float>(1e-7 * std::pow(1e6, u));
    s.dropout = 0.5f * uniform_from_hash(mix_hash(8, t));
    s.seed = static_cast<uint64_t>(t);
  }
  MlpTrainOptions o;
  o.max_epochs = 5;
  o.patience = 100;  // every trial runs all 5 epochs, as the sequential reference does
  double seconds = 0.0;
  train_mlp_batch_cuda(specs, d->view(), o);  // warm-up: pool blocks, cuBLAS heuristics
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    train_mlp_batch_cuda(specs, d->view(), o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds += s;
    state.SetIterationTime(s);
  }
  const double per_call = seconds / static_cast<double>(state.iterations());
  state.counters["K"] = k;
  state.counters["sec_per_batch"] = per_call;
  state.counters["trials_per_s"] = k / per_call;
}
BENCHMARK(BM_GpuMlpTrialBatch)
    ->ArgName("K")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tabpilot

BENCHMARK_MAIN();
