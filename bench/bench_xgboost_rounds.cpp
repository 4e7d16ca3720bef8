// XGBoost per boosting round on the CPU (hist) and on the GPU (device=cuda:0, when the
// loaded libxgboost has CUDA), through tabpilot's own learner on the same 1,000,000 x 50
// float matrix, with the final training RMSE of each as the quality check. JSON on stdout:
//   {"library": ..., "rows": ..., "cols": ..., "rounds": ..., "cpu": {"seconds_per_round",
//    "rmse"}, "gpu": {...} | null, "speedup": ...}
//   bench_xgboost_rounds [ROWS=1000000] [ROUNDS=50] [THREADS=all]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "tabpilot/cuda/device.h"
#include "tabpilot/trainer/learner.h"

using namespace tabpilot;

namespace {

nlohmann::json run(const Matrix& x, const std::vector<float>& y, int rounds, int threads,
                   Device device) {
  FitData d;
  d.x_train = x.view();
  d.y_train = &y;
  FitContext ctx;
  ctx.threads = threads;
  ctx.device = device;
  auto l = make_learner("xgboost");
  const auto t0 = std::chrono::steady_clock::now();
  l->fit(d, {{"num_round", rounds}, {"max_depth", 8}, {"eta", 0.1}}, ctx);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<float> pred;
  l->predict(x.view(), pred);
  double se = 0;
  for (size_t i = 0; i < y.size(); ++i) se += (pred[i] - y[i]) * (pred[i] - y[i]);
  const int done = l->fit_info()["rounds"].get<int>();
  return {{"seconds", s}, {"rounds", done}, {"seconds_per_round", s / std::max(done, 1)},
          {"rmse", std::sqrt(se / static_cast<double>(y.size()))}};
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rows = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 50;
  const int threads = argc > 3 ? std::atoi(argv[3])
                               : static_cast<int>(std::thread::hardware_concurrency());
  const size_t cols = 50;
  Matrix x(rows, cols);
  std::vector<float> y(rows);
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) x.at(i, j) = g(rng);
    y[i] = x.at(i, 0) * 0.5f + std::sin(x.at(i, 1)) * 3 + x.at(i, 2) * x.at(i, 3) + g(rng);
  }
  nlohmann::json out = {{"rows", rows}, {"cols", cols}, {"rounds", rounds}, {"threads", threads}};
  for (const auto& r : learner_runtimes({"xgboost"})) out["library"] = r;
  out["cpu"] = run(x, y, rounds, threads, Device::cpu());
  out["gpu"] = nullptr;
  if (!cuda_devices().empty() && learner_info("xgboost").gpu) {
    out["gpu"] = run(x, y, rounds, threads, Device::cuda(0));
    out["speedup"] = out["cpu"]["seconds_per_round"].get<double>() /
                     out["gpu"]["seconds_per_round"].get<double>();
  } else {
    out["gpu_skipped"] = cuda_devices().empty() ? "no GPU visible" : "libxgboost has no CUDA";
  }
  std::printf("%s\n", out.dump(1).c_str());
  return 0;
}
