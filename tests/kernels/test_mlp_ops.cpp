// The MLP kernels' CPU twins against naive loops, hand-computed values and central finite
// differences. A later GPU suite holds the _cuda versions against these.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tabpilot/kernels/mlp_ops.h"

namespace tabpilot {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST(MlpOps, DenseForwardMatchesNaiveLoop) {
  const int n = 7, in = 5, out = 3;
  auto x = random_vec(n * in, 1), w = random_vec(out * in, 2), b = random_vec(out, 3);
  std::vector<float> y(n * out, 99.0f), y_nobias(n * out, 99.0f);
  dense_forward_cpu(x.data(), w.data(), b.data(), y.data(), n, in, out);
  dense_forward_cpu(x.data(), w.data(), nullptr, y_nobias.data(), n, in, out);
  for (int r = 0; r < n; ++r)
    for (int o = 0; o < out; ++o) {
      double s = 0;
      for (int i = 0; i < in; ++i) s += double(x[r * in + i]) * w[o * in + i];
      EXPECT_NEAR(y_nobias[r * out + o], s, 1e-5);
      EXPECT_NEAR(y[r * out + o], s + b[o], 1e-5);
    }
}

TEST(MlpOps, DenseBackwardMatchesNaiveLoopAndFiniteDifferences) {
  const int n = 6, in = 4, out = 3;
  auto x = random_vec(n * in, 4), w = random_vec(out * in, 5), b = random_vec(out, 6);
  auto dy = random_vec(n * out, 7);  // L = sum(dy .* y), so dL/dy = dy
  std::vector<float> dx(n * in), dw(out * in), db(out);
  dense_backward_cpu(x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), n, in, out);
  for (int o = 0; o < out; ++o) {
    double sb = 0;
    for (int r = 0; r < n; ++r) sb += dy[r * out + o];
    EXPECT_NEAR(db[o], sb, 1e-5);
    for (int i = 0; i < in; ++i) {
      double s = 0;
      for (int r = 0; r < n; ++r) s += double(dy[r * out + o]) * x[r * in + i];
      EXPECT_NEAR(dw[o * in + i], s, 1e-5);
    }
  }
  for (int r = 0; r < n; ++r)
    for (int i = 0; i < in; ++i) {
      double s = 0;
      for (int o = 0; o < out; ++o) s += double(dy[r * out + o]) * w[o * in + i];
      EXPECT_NEAR(dx[r * in + i], s, 1e-5);
    }
  auto loss = [&]() {
    std::vector<float> y(n * out);
    dense_forward_cpu(x.data(), w.data(), b.data(), y.data(), n, in, out);
    double s = 0;
    for (int i = 0; i < n * out; ++i) s += double(dy[i]) * y[i];
    return s;
  };
  const float h = 1e-2f;
  auto check = [&](std::vector<float>& p, const std::vector<float>& g) {
    for (size_t i = 0; i < p.size(); ++i) {
      const float keep = p[i];
      p[i] = keep + h;
      const double up = loss();
      p[i] = keep - h;
      const double down = loss();
      p[i] = keep;
      EXPECT_NEAR((up - down) / (2 * h), g[i], 2e-3) << "index " << i;
    }
  };
  check(x, dx);
  check(w, dw);
  check(b, db);
}

TEST(MlpOps, DenseBackwardWithNoRowsZeroesParameterGradients) {
  std::vector<float> dw(6, 5.0f), db(2, 5.0f), w(6, 1.0f);
  dense_backward_cpu(nullptr, w.data(), nullptr, nullptr, dw.data(), db.data(), 0, 3, 2);
  for (float v : dw) EXPECT_EQ(v, 0.0f);
  for (float v : db) EXPECT_EQ(v, 0.0f);
}

TEST(MlpOps, BiasReluWithoutDropoutIsExactRelu) {
  const int n = 4, width = 5;
  auto h = random_vec(n * width, 8), b = random_vec(width, 9);
  auto expect = h;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < width; ++c) {
      float z = expect[r * width + c] + b[c];
      expect[r * width + c] = z > 0 ? z : 0;
    }
  bias_relu_dropout_cpu(h.data(), b.data(), n, width, 0.0f, 123);
  EXPECT_EQ(h, expect);
  float poisoned[2] = {NAN, -1.0f};  // NaN must reach the loss check, not vanish in ReLU
  bias_relu_dropout_cpu(poisoned, nullptr, 1, 2, 0.0f, 0);
  EXPECT_TRUE(std::isnan(poisoned[0]));
  EXPECT_EQ(poisoned[1], 0.0f);
}

TEST(MlpOps, DropoutKeepRateScaleAndDeterminism) {
  const int n = 500, width = 200;
  const float rate = 0.3f;
  std::vector<float> ones(n * width, 1.0f);
  auto a = ones, b = ones, c = ones;
  bias_relu_dropout_cpu(a.data(), nullptr, n, width, rate, 42);
  bias_relu_dropout_cpu(b.data(), nullptr, n, width, rate, 42);
  bias_relu_dropout_cpu(c.data(), nullptr, n, width, rate, 43);
  EXPECT_EQ(a, b);  // same seed, bit-identical mask
  size_t kept = 0, differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(a[i], 1.0f / (1.0f - rate));
    }
    EXPECT_EQ(a[i] != 0.0f, dropout_keep(42, i, rate));
    differ += (a[i] != 0.0f) != (c[i] != 0.0f);
  }
  // 100k Bernoulli(0.7) draws: standard deviation of the rate is ~0.0014.
  EXPECT_NEAR(double(kept) / a.size(), 1.0 - rate, 0.007);
  // Independent masks disagree on 2 * 0.7 * 0.3 = 42% of elements.
  EXPECT_NEAR(double(differ) / a.size(), 0.42, 0.01);
}

TEST(MlpOps, ReluDropoutBackwardMatchesFiniteDifferences) {
  const int n = 6, width = 8;
  const float rate = 0.25f;
  const uint64_t seed = 7;
  auto h = random_vec(n * width, 10), b = random_vec(width, 11), r = random_vec(n * width, 12);
  for (auto& v : h)  // keep pre-activations away from the ReLU kink
    if (std::fabs(v) < 0.05f) v = 0.1f;
  for (int i = 0; i < n * width; ++i)
    if (std::fabs(h[i] + b[i % width]) < 0.05f) h[i] += 0.2f;
  auto loss = [&](const std::vector<float>& pre) {
    auto a = pre;
    bias_relu_dropout_cpu(a.data(), b.data(), n, width, rate, seed);
    double s = 0;
    for (int i = 0; i < n * width; ++i) s += double(r[i]) * a[i];
    return s;
  };
  auto a = h;
  bias_relu_dropout_cpu(a.data(), b.data(), n, width, rate, seed);
  auto da = r;
  relu_dropout_backward_cpu(a.data(), da.data(), n, width, rate);
  const float eps = 1e-2f;
  int active = 0;
  for (int i = 0; i < n * width; ++i) {
    auto up = h, down = h;
    up[i] += eps;
    down[i] -= eps;
    EXPECT_NEAR((loss(up) - loss(down)) / (2 * eps), da[i], 1e-3) << "index " << i;
    active += da[i] != 0.0f;
  }
  EXPECT_GT(active, 5);
  EXPECT_LT(active, n * width);
}

TEST(MlpOps, SoftmaxCrossEntropyMatchesDoubleReferenceAndGradient) {
  const int n = 5, k = 4;
  auto logits = random_vec(n * k, 13, 3.0f);
  std::vector<float> labels = {0, 3, 1, 2, 3};
  std::vector<float> weights = {1.0f, 0.5f, 2.0f, 1.0f, 1.5f};
  std::vector<float> grad(n * k), row_loss(n);
  const float scale = 1.0f / n;
  double total = softmax_xent_cpu(logits.data(), labels.data(), weights.data(), grad.data(),
                                  row_loss.data(), n, k, scale);
  double expect_total = 0;
  for (int r = 0; r < n; ++r) {
    double z = 0;
    for (int c = 0; c < k; ++c) z += std::exp(double(logits[r * k + c]));
    double l = std::log(z) - logits[r * k + int(labels[r])];
    EXPECT_NEAR(row_loss[r], l, 1e-5);
    expect_total += weights[r] * l;
  }
  EXPECT_NEAR(total, expect_total, 1e-5);
  auto mean_loss = [&]() {
    return softmax_xent_cpu(logits.data(), labels.data(), weights.data(), nullptr, nullptr, n, k,
                            0.0f) /
           n;
  };
  const float eps = 1e-2f;
  for (int i = 0; i < n * k; ++i) {
    const float keep = logits[i];
    logits[i] = keep + eps;
    double up = mean_loss();
    logits[i] = keep - eps;
    double down = mean_loss();
    logits[i] = keep;
    EXPECT_NEAR((up - down) / (2 * eps), grad[i], 2e-4) << "index " << i;
  }
}

TEST(MlpOps, SoftmaxCrossEntropyIsStableForHugeLogits) {
  std::vector<float> logits = {1000.0f, -1000.0f, 0.0f, 800.0f, 1000.0f, 1000.0f};
  std::vector<float> labels = {1, 0};
  std::vector<float> grad(6), row_loss(2);
  softmax_xent_cpu(logits.data(), labels.data(), nullptr, grad.data(), row_loss.data(), 2, 3, 1.0f);
  EXPECT_FLOAT_EQ(row_loss[0], 2000.0f);
  EXPECT_NEAR(row_loss[1], 200.0f + std::log(2.0f), 1e-3);
  EXPECT_FLOAT_EQ(grad[0], 1.0f);
  EXPECT_FLOAT_EQ(grad[1], -1.0f);
  EXPECT_FLOAT_EQ(grad[3], -1.0f);
  EXPECT_FLOAT_EQ(grad[4], 0.5f);
}

TEST(MlpOps, MseLossAndGradient) {
  std::vector<float> pred = {1.0f, 2.0f, -1.0f}, target = {0.5f, 2.0f, 1.0f};
  std::vector<float> grad(3), row(3);
  double sum = mse_cpu(pred.data(), target.data(), grad.data(), row.data(), 3, 1.0f / 3);
  EXPECT_DOUBLE_EQ(sum, 0.25 + 0.0 + 4.0);
  EXPECT_FLOAT_EQ(row[2], 4.0f);
  EXPECT_FLOAT_EQ(grad[0], 2 * 0.5f / 3);
  EXPECT_FLOAT_EQ(grad[1], 0.0f);
  EXPECT_FLOAT_EQ(grad[2], 2 * -2.0f / 3);
}

TEST(MlpOps, AdamWStepsMatchHandComputedValues) {
  // p=1, lr=0.1, wd=0.01. Step 1, g=0.5: m=0.05, v=2.5e-4, mhat=0.5, vhat=0.25,
  // p = 1 * 0.999 - 0.1 * 0.5 / 0.5 = 0.899. Step 2, g=-0.25: m=0.02, v=3.1225e-4,
  // mhat=0.02/0.19, vhat=3.1225e-4/0.001999, p = 0.899 * 0.999 - 0.1 * mhat / sqrt(vhat).
  AdamConfig cfg;
  cfg.learning_rate = 0.1f;
  cfg.weight_decay = 0.01f;
  float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
  adamw_step_cpu(&p, &g, &m, &v, 1, cfg, 1);
  EXPECT_FLOAT_EQ(m, 0.05f);
  EXPECT_NEAR(v, 2.5e-4, 1e-8);  // 1 - 0.999f is not exact in float
  EXPECT_NEAR(p, 0.899, 1e-6);
  g = -0.25f;
  adamw_step_cpu(&p, &g, &m, &v, 1, cfg, 2);
  EXPECT_FLOAT_EQ(m, 0.02f);
  EXPECT_NEAR(v, 3.1225e-4, 1e-8);
  EXPECT_NEAR(p, 0.8714673, 2e-6);
}

// A whole 2-hidden-layer network composed from the kernels: every parameter's analytic
// gradient against central finite differences of the loss, dropout included (the mask is a
// pure function of the seed, so the loss is a deterministic function of the parameters).
TEST(MlpOps, FullNetworkGradientsMatchFiniteDifferences) {
  const int n = 8, d = 4, h1 = 6, h2 = 5, k = 3;
  const float rate = 0.2f;
  std::vector<std::vector<float>> params = {random_vec(h1 * d, 20),  random_vec(h1, 21, 0.3f),
                                            random_vec(h2 * h1, 22), random_vec(h2, 23, 0.3f),
                                            random_vec(k * h2, 24),  random_vec(k, 25, 0.3f)};
  auto x = random_vec(n * d, 26, 2.0f);
  std::vector<float> labels = {0, 1, 2, 1, 0, 2, 2, 1};
  std::vector<float> a1(n * h1), a2(n * h2), out(n * k);
  auto forward = [&]() {
    dense_forward_cpu(x.data(), params[0].data(), nullptr, a1.data(), n, d, h1);
    bias_relu_dropout_cpu(a1.data(), params[1].data(), n, h1, rate, 1001);
    dense_forward_cpu(a1.data(), params[2].data(), nullptr, a2.data(), n, h1, h2);
    bias_relu_dropout_cpu(a2.data(), params[3].data(), n, h2, rate, 1002);
    dense_forward_cpu(a2.data(), params[4].data(), params[5].data(), out.data(), n, h2, k);
  };
  forward();
  std::vector<float> dout(n * k), da2(n * h2), da1(n * h1);
  std::vector<std::vector<float>> grads;
  for (const auto& p : params) grads.emplace_back(p.size());
  softmax_xent_cpu(out.data(), labels.data(), nullptr, dout.data(), nullptr, n, k, 1.0f / n);
  dense_backward_cpu(a2.data(), params[4].data(), dout.data(), da2.data(), grads[4].data(),
                     grads[5].data(), n, h2, k);
  relu_dropout_backward_cpu(a2.data(), da2.data(), n, h2, rate);
  dense_backward_cpu(a1.data(), params[2].data(), da2.data(), da1.data(), grads[2].data(),
                     grads[3].data(), n, h1, h2);
  relu_dropout_backward_cpu(a1.data(), da1.data(), n, h1, rate);
  dense_backward_cpu(x.data(), params[0].data(), da1.data(), nullptr, grads[0].data(),
                     grads[1].data(), n, d, h1);
  auto loss = [&]() {
    forward();
    return softmax_xent_cpu(out.data(), labels.data(), nullptr, nullptr, nullptr, n, k, 0.0f) / n;
  };
  const float eps = 5e-4f;
  double max_err = 0;
  for (size_t p = 0; p < params.size(); ++p)
    for (size_t i = 0; i < params[p].size(); ++i) {
      const float keep = params[p][i];
      params[p][i] = keep + eps;
      const double up = loss();
      params[p][i] = keep - eps;
      const double down = loss();
      params[p][i] = keep;
      const double fd = (up - down) / (2 * eps);
      const double err = std::fabs(fd - grads[p][i]) / (1e-2 + std::fabs(fd));
      max_err = std::max(max_err, err);
      EXPECT_LT(err, 3e-2) << "param " << p << " index " << i << " fd " << fd << " analytic "
                           << grads[p][i];
    }
  EXPECT_GT(max_err, 0.0);
}

}  // namespace
}  // namespace tabpilot
