// Every MLP kernel against its CPU twin. Tolerances: elementwise ops and dropout masks are
// bit-identical; GEMMs within 1e-4 (FP32, different summation order) or 1e-2 (TF32, 10-bit
// inputs); reductions within 1e-5 relative (warp-order float sums) and deterministic run to run.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "gpu/gpu_test_util.h"
#include "tabpilot/cuda/cublas_handle.h"
#include "tabpilot/kernels/mlp_ops.h"
#include "tabpilot/kernels/mlp_ops_cuda.h"

namespace tabpilot {
namespace {

using testing::expect_bitwise_equal;
using testing::expect_near_all;
using testing::gpu0;
using testing::random_floats;
using testing::upload;

struct Shape {
  int n, in, out;
};

void check_dense_forward(const Shape& sh, bool bias, BlasMath math, double tol) {
  Stream s(gpu0());
  BlasHandle::get(gpu0(), s.handle()).set_math(math);
  std::mt19937 rng(sh.n * 131 + sh.in);
  const auto x = random_floats(size_t(sh.n) * sh.in, rng, -1, 1);
  const auto w = random_floats(size_t(sh.out) * sh.in, rng, -1, 1);
  const auto b = random_floats(sh.out, rng, -1, 1);
  std::vector<float> cpu(size_t(sh.n) * sh.out);
  dense_forward_cpu(x.data(), w.data(), bias ? b.data() : nullptr, cpu.data(), sh.n, sh.in,
                    sh.out);
  auto dx = upload(x, s), dw = upload(w, s), db = upload(b, s);
  auto dy = upload(std::vector<float>(cpu.size(), 123.0f), s);  // garbage must be overwritten
  dense_forward_cuda(dx.data(), dw.data(), bias ? db.data() : nullptr, dy.data(), sh.n, sh.in,
                     sh.out, s.handle());
  expect_near_all(dy.to_host(), cpu, tol, tol, "dense_forward");
}

TEST(GpuMlpOps, DenseForwardMatchesCpuInFp32) {
  TABPILOT_REQUIRE_GPU();
  for (const Shape& sh : {Shape{37, 19, 13}, Shape{256, 64, 32}, Shape{1, 300, 1}}) {
    check_dense_forward(sh, true, BlasMath::kFp32, 1e-4);
    check_dense_forward(sh, false, BlasMath::kFp32, 1e-4);
  }
}

TEST(GpuMlpOps, DenseForwardMatchesCpuInTf32WithinTf32Precision) {
  TABPILOT_REQUIRE_GPU();
  check_dense_forward({256, 64, 32}, true, BlasMath::kTf32, 1e-2);
}

TEST(GpuMlpOps, DenseForwardWithEmptyInputIsBiasOrZero) {
  TABPILOT_REQUIRE_GPU();
  check_dense_forward({5, 0, 3}, true, BlasMath::kFp32, 0.0);
  check_dense_forward({5, 0, 3}, false, BlasMath::kFp32, 0.0);
}

TEST(GpuMlpOps, DenseBackwardMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  for (const Shape& sh : {Shape{37, 19, 13}, Shape{512, 64, 10}}) {
    std::mt19937 rng(sh.n);
    const auto x = random_floats(size_t(sh.n) * sh.in, rng, -1, 1);
    const auto w = random_floats(size_t(sh.out) * sh.in, rng, -1, 1);
    const auto g = random_floats(size_t(sh.n) * sh.out, rng, -1, 1);
    std::vector<float> dx(size_t(sh.n) * sh.in), dw(size_t(sh.out) * sh.in), db(sh.out);
    dense_backward_cpu(x.data(), w.data(), g.data(), dx.data(), dw.data(), db.data(), sh.n,
                       sh.in, sh.out);
    auto d_x = upload(x, s), d_w = upload(w, s), d_g = upload(g, s);
    auto d_dx = upload(std::vector<float>(dx.size(), 5.0f), s);
    auto d_dw = upload(std::vector<float>(dw.size(), 5.0f), s);
    auto d_db = upload(std::vector<float>(db.size(), 5.0f), s);
    dense_backward_cuda(d_x.data(), d_w.data(), d_g.data(), d_dx.data(), d_dw.data(),
                        d_db.data(), sh.n, sh.in, sh.out, s.handle());
    expect_near_all(d_dx.to_host(), dx, 1e-4, 1e-4, "dx");
    expect_near_all(d_dw.to_host(), dw, 1e-4, 1e-4, "dw");
    expect_near_all(d_db.to_host(), db, 2e-4, 1e-5, "db");
  }
}

TEST(GpuMlpOps, BiasReluDropoutMaskIsBitIdenticalToCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  const int n = 513, width = 97;
  std::mt19937 rng(7);
  const auto h = random_floats(size_t(n) * width, rng, -1, 1);
  const auto bias = random_floats(width, rng, -0.2f, 0.2f);
  auto d_bias = upload(bias, s);
  for (float rate : {0.0f, 0.3f}) {
    for (bool with_bias : {true, false}) {
      std::vector<float> cpu = h;
      bias_relu_dropout_cpu(cpu.data(), with_bias ? bias.data() : nullptr, n, width, rate, 42);
      auto d_h = upload(h, s);
      bias_relu_dropout_cuda(d_h.data(), with_bias ? d_bias.data() : nullptr, n, width, rate, 42,
                             s.handle());
      const auto gpu = d_h.to_host();
      expect_bitwise_equal(gpu, cpu, "bias_relu_dropout");
      if (rate > 0.0f && !with_bias) {  // independent check: ~30% of active units dropped
        size_t active = 0, dropped = 0;
        for (size_t i = 0; i < h.size(); ++i)
          if (h[i] > 0.0f) ++active, dropped += gpu[i] == 0.0f;
        EXPECT_NEAR(double(dropped) / active, 0.3, 0.02);
      }
    }
  }
}

TEST(GpuMlpOps, ReluDropoutBackwardIsBitIdenticalToCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  const int n = 300, width = 33;
  std::mt19937 rng(8);
  auto a = random_floats(size_t(n) * width, rng, -1, 1);
  for (auto& v : a) v = std::max(v, 0.0f);
  const auto da = random_floats(a.size(), rng, -1, 1);
  for (float rate : {0.0f, 0.25f}) {
    std::vector<float> cpu = da;
    relu_dropout_backward_cpu(a.data(), cpu.data(), n, width, rate);
    auto d_a = upload(a, s), d_da = upload(da, s);
    relu_dropout_backward_cuda(d_a.data(), d_da.data(), n, width, rate, s.handle());
    expect_bitwise_equal(d_da.to_host(), cpu, "relu_dropout_backward");
  }
}

TEST(GpuMlpOps, SoftmaxXentMatchesCpuAndIsDeterministic) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  for (int k : {2, 7, 70}) {
    const int n = 1001;
    std::mt19937 rng(k);
    const auto logits = random_floats(size_t(n) * k, rng, -8, 8);
    const auto weights = random_floats(n, rng, 0.1f, 3.0f);
    std::uniform_int_distribution<int> cls(0, k - 1);
    std::vector<float> labels(n);
    for (auto& l : labels) l = float(cls(rng));
    for (bool weighted : {false, true}) {
      std::vector<float> grad(logits.size()), loss(n);
      const double total = softmax_xent_cpu(logits.data(), labels.data(),
                                            weighted ? weights.data() : nullptr, grad.data(),
                                            loss.data(), n, k, 0.5f);
      auto d_logits = upload(logits, s), d_labels = upload(labels, s), d_w = upload(weights, s);
      DeviceBuffer<float> d_grad(grad.size(), gpu0(), s.handle()), d_loss(n, gpu0(), s.handle());
      const double gpu_total = softmax_xent_cuda(
          d_logits.data(), d_labels.data(), weighted ? d_w.data() : nullptr, d_grad.data(),
          d_loss.data(), n, k, 0.5f, s.handle());
      EXPECT_NEAR(gpu_total, total, 1e-5 * std::fabs(total)) << "k=" << k;
      expect_near_all(d_loss.to_host(), loss, 1e-5, 1e-5, "row_loss");
      expect_near_all(d_grad.to_host(), grad, 1e-5, 1e-5, "grad");
      // Loss only (no grad, no row loss) gives the same bits, and so does a rerun.
      const double again = softmax_xent_cuda(d_logits.data(), d_labels.data(),
                                             weighted ? d_w.data() : nullptr, nullptr, nullptr,
                                             n, k, 0.5f, s.handle());
      EXPECT_EQ(again, gpu_total);
    }
  }
}

TEST(GpuMlpOps, MseMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  const size_t count = 300001;  // more than the reduction's 1024 x 256 first-stage threads
  std::mt19937 rng(9);
  const auto pred = random_floats(count, rng, -3, 3), target = random_floats(count, rng, -3, 3);
  std::vector<float> grad(count), loss(count);
  const double total = mse_cpu(pred.data(), target.data(), grad.data(), loss.data(), count, 0.1f);
  auto d_p = upload(pred, s), d_t = upload(target, s);
  DeviceBuffer<float> d_grad(count, gpu0(), s.handle()), d_loss(count, gpu0(), s.handle());
  const double gpu_total =
      mse_cuda(d_p.data(), d_t.data(), d_grad.data(), d_loss.data(), count, 0.1f, s.handle());
  EXPECT_NEAR(gpu_total, total, 1e-12 * total);
  expect_bitwise_equal(d_grad.to_host(), grad, "mse grad");
  expect_bitwise_equal(d_loss.to_host(), loss, "mse row_loss");
  EXPECT_EQ(sum_squared_error_cuda(d_p.data(), d_t.data(), count, s.handle()), gpu_total);
}

TEST(GpuMlpOps, AdamwStepsMatchCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  const size_t count = 4099;
  std::mt19937 rng(10);
  auto p = random_floats(count, rng, -1, 1);
  std::vector<float> m(count, 0.0f), v(count, 0.0f);
  auto d_p = upload(p, s), d_m = upload(m, s), d_v = upload(v, s);
  AdamConfig cfg;
  cfg.learning_rate = 3e-3f;
  cfg.weight_decay = 0.01f;
  for (int t = 1; t <= 3; ++t) {
    const auto g = random_floats(count, rng, -1, 1);
    adamw_step_cpu(p.data(), g.data(), m.data(), v.data(), count, cfg, t);
    auto d_g = upload(g, s);
    adamw_step_cuda(d_p.data(), d_g.data(), d_m.data(), d_v.data(), count, cfg, t, s.handle());
  }
  expect_near_all(d_p.to_host(), p, 1e-7, 1e-6, "param");
  expect_near_all(d_m.to_host(), m, 1e-7, 1e-6, "m");
  expect_near_all(d_v.to_host(), v, 1e-9, 1e-6, "v");
}

TEST(GpuMetrics, SumSquaredErrorAndArgmaxAccuracyMatchBruteForce) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  const int n = 2049;
  for (int k : {1, 3, 40}) {
    std::mt19937 rng(k + 100);
    // Small integer scores make ties common, so the first-index rule is exercised.
    std::uniform_int_distribution<int> score(0, 3), cls(0, k - 1);
    std::vector<float> scores(size_t(n) * k), labels(n);
    for (auto& x : scores) x = float(score(rng));
    for (auto& l : labels) l = float(cls(rng));
    int64_t expected = 0;
    for (int r = 0; r < n; ++r) {
      const float* row = scores.data() + size_t(r) * k;
      expected += (std::max_element(row, row + k) - row) == int64_t(labels[r]);
    }
    auto d_s = upload(scores, s), d_l = upload(labels, s);
    EXPECT_EQ(argmax_correct_cuda(d_s.data(), d_l.data(), n, k, s.handle()), expected) << k;
  }
  std::mt19937 rng(11);
  const auto a = random_floats(5000, rng), b = random_floats(5000, rng);
  double sse = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sse += double(a[i] - b[i]) * double(a[i] - b[i]);
  auto d_a = upload(a, s), d_b = upload(b, s);
  EXPECT_NEAR(sum_squared_error_cuda(d_a.data(), d_b.data(), a.size(), s.handle()), sse,
              1e-12 * sse);
}

}  // namespace
}  // namespace tabpilot
