// Our CUDA path for one small MLP step — forward with a dropout mask, softmax cross-entropy,
// every parameter gradient, one AdamW step — written out for bench/torch_cuda_reference.py,
// which recomputes it with PyTorch on the same GPU (the LibTorch inside the GPU machine's
// PyTorch) and compares. Runs only where TABPILOT_TORCH_DUMP names the output file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "gpu/gpu_test_util.h"
#include "tabpilot/kernels/mlp_ops.h"
#include "tabpilot/kernels/mlp_ops_cuda.h"

namespace tabpilot {
namespace {

using testing::gpu0;
using testing::upload;

std::vector<float> uniform(size_t count, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = u(rng);
  return v;
}

TEST(GpuTorchReference, DumpsOneCudaTrainingStepForTorch) {
  TABPILOT_REQUIRE_GPU();
  const char* path = std::getenv("TABPILOT_TORCH_DUMP");
  if (!path) GTEST_SKIP() << "set TABPILOT_TORCH_DUMP=<file> (bench/gpu_check.sh does)";
  const int n = 24, in = 7, hidden = 16, k = 3;
  const float rate = 0.3f;
  const uint64_t seed = 77;
  std::mt19937 rng(5);
  auto x = uniform(size_t(n) * in, rng, -1, 1);
  auto w1 = uniform(size_t(hidden) * in, rng, -0.5f, 0.5f), b1 = uniform(hidden, rng, -0.1f, 0.1f);
  auto w2 = uniform(size_t(k) * hidden, rng, -0.5f, 0.5f), b2 = uniform(k, rng, -0.1f, 0.1f);
  std::vector<float> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = float(i % k);
  std::vector<float> mask(size_t(n) * hidden);
  for (size_t i = 0; i < mask.size(); ++i) mask[i] = dropout_keep(seed, i, rate) ? 1.0f : 0.0f;

  Stream s(gpu0());
  auto d_x = upload(x, s), d_w1 = upload(w1, s), d_b1 = upload(b1, s), d_w2 = upload(w2, s),
       d_b2 = upload(b2, s), d_y = upload(labels, s);
  auto d_a1 = upload(std::vector<float>(size_t(n) * hidden), s);
  auto d_logits = upload(std::vector<float>(size_t(n) * k), s);
  auto d_dlogits = upload(std::vector<float>(size_t(n) * k), s);
  auto d_da1 = upload(std::vector<float>(size_t(n) * hidden), s);
  auto d_gw1 = upload(std::vector<float>(w1.size()), s), d_gb1 = upload(std::vector<float>(hidden), s);
  auto d_gw2 = upload(std::vector<float>(w2.size()), s), d_gb2 = upload(std::vector<float>(k), s);

  dense_forward_cuda(d_x.data(), d_w1.data(), nullptr, d_a1.data(), n, in, hidden, s.handle());
  bias_relu_dropout_cuda(d_a1.data(), d_b1.data(), n, hidden, rate, seed, s.handle());
  dense_forward_cuda(d_a1.data(), d_w2.data(), d_b2.data(), d_logits.data(), n, hidden, k,
                     s.handle());
  const double loss_sum = softmax_xent_cuda(d_logits.data(), d_y.data(), nullptr,
                                            d_dlogits.data(), nullptr, n, k, 1.0f / n, s.handle());
  dense_backward_cuda(d_a1.data(), d_w2.data(), d_dlogits.data(), d_da1.data(), d_gw2.data(),
                      d_gb2.data(), n, hidden, k, s.handle());
  relu_dropout_backward_cuda(d_a1.data(), d_da1.data(), n, hidden, rate, s.handle());
  dense_backward_cuda(d_x.data(), d_w1.data(), d_da1.data(), nullptr, d_gw1.data(), d_gb1.data(),
                      n, in, hidden, s.handle());
  nlohmann::json out = {{"n", n}, {"in", in}, {"hidden", hidden}, {"k", k}, {"rate", rate},
                        {"x", x}, {"w1", w1}, {"b1", b1}, {"w2", w2}, {"b2", b2},
                        {"labels", labels}, {"mask", mask}, {"loss", loss_sum / n},
                        {"logits", d_logits.to_host()}, {"a1", d_a1.to_host()},
                        {"grad_w1", d_gw1.to_host()}, {"grad_b1", d_gb1.to_host()},
                        {"grad_w2", d_gw2.to_host()}, {"grad_b2", d_gb2.to_host()}};
  AdamConfig adam;
  adam.learning_rate = 0.01f;
  adam.weight_decay = 0.05f;
  AdamConfig adam_bias = adam;
  adam_bias.weight_decay = 0.0f;
  out["adam"] = {{"lr", adam.learning_rate}, {"beta1", adam.beta1}, {"beta2", adam.beta2},
                 {"eps", adam.eps}, {"weight_decay", adam.weight_decay}};
  auto step = [&](DeviceBuffer<float>& p, DeviceBuffer<float>& g, size_t count,
                  const AdamConfig& c) {
    auto m = upload(std::vector<float>(count), s), v = upload(std::vector<float>(count), s);
    adamw_step_cuda(p.data(), g.data(), m.data(), v.data(), count, c, 1, s.handle());
    return p.to_host();
  };
  out["after_w1"] = step(d_w1, d_gw1, w1.size(), adam);
  out["after_b1"] = step(d_b1, d_gb1, b1.size(), adam_bias);
  out["after_w2"] = step(d_w2, d_gw2, w2.size(), adam);
  out["after_b2"] = step(d_b2, d_gb2, b2.size(), adam_bias);
  EXPECT_TRUE(std::isfinite(loss_sum));
  std::ofstream(path) << out.dump();
}

}  // namespace
}  // namespace tabpilot
