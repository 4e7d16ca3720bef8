// The MLP's math (kernels/mlp_ops.h composed as trainer/mlp.cpp composes it, and the whole-model
// inference pass of trainer/mlp_model.h) against LibTorch as an independent reference: the same
// network as autograd tensors, weights copied from our CPU twin, our dropout mask as a tensor.
//
// Tolerances: every comparison is |ours - torch| <= kRtol * |torch| + kRtol * max|torch| (the
// second term is a floor on the tensor's own scale, for entries that cancel to ~0), with
// kRtol = 1e-5. Each check runs with LibTorch in float64 (the exact answer for our float32 inputs)
// and in float32 (same precision, different summation order and formula for Adam's denominator).
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tabpilot/kernels/mlp_ops.h"
#include "tabpilot/trainer/mlp_model.h"

namespace tabpilot {
namespace {

using mlp::DenseLayer;
using mlp::MlpModel;

constexpr double kRtol = 1e-5;
const c10::ScalarType kDtypes[] = {torch::kDouble, torch::kFloat};

std::string dtype_name(c10::ScalarType t) { return t == torch::kDouble ? "float64" : "float32"; }

// Deterministic data in [-scale, scale] from the counter hash (any generator would do).
std::vector<float> hashed(size_t count, uint64_t seed, double scale) {
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i)
    v[i] = float(scale * (2.0 * uniform_from_hash(mix_hash(seed, i)) - 1.0));
  return v;
}

// dims = {input, hidden..., outputs}. He-scaled weights and non-zero biases, so both the ReLU
// and the bias gradients are exercised.
MlpModel make_model(const std::vector<int>& dims, uint64_t seed) {
  MlpModel m;
  m.dim = dims.front();
  m.num_classes = dims.back();
  m.task = dims.back() == 1 ? Task::kRegression : Task::kMulticlass;
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    DenseLayer L;
    L.in = dims[l];
    L.out = dims[l + 1];
    L.w = hashed(size_t(L.in) * L.out, mix_hash(seed, 2 * l), std::sqrt(6.0 / L.in));
    L.b = hashed(size_t(L.out), mix_hash(seed, 2 * l + 1), 0.2);
    m.layers.push_back(std::move(L));
  }
  return m;
}

torch::Tensor to_tensor(const std::vector<float>& v, std::vector<int64_t> shape,
                        c10::ScalarType dtype) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat).to(dtype).clone();
}

// The dropout mask our kernel draws for layer activations [n, width], as 0/1.
torch::Tensor our_keep_mask(int n, int width, float rate, uint64_t seed, c10::ScalarType dtype) {
  std::vector<float> keep(size_t(n) * width);
  for (size_t i = 0; i < keep.size(); ++i) keep[i] = dropout_keep(seed, i, rate) ? 1.0f : 0.0f;
  return to_tensor(keep, {n, width}, dtype);
}

uint64_t layer_seed(uint64_t seed, size_t l) { return mix_hash(seed, l); }

::testing::AssertionResult close(const std::vector<float>& ours, const torch::Tensor& ref,
                                 const std::string& what) {
  const torch::Tensor r = ref.detach().to(torch::kDouble).contiguous().flatten();
  if (size_t(r.numel()) != ours.size())
    return ::testing::AssertionFailure()
           << what << ": " << ours.size() << " values, torch has " << r.numel();
  const double* p = r.data_ptr<double>();
  double scale = 0.0;
  for (int64_t i = 0; i < r.numel(); ++i) scale = std::max(scale, std::fabs(p[i]));
  int bad = 0;
  auto failure = ::testing::AssertionFailure();
  for (size_t i = 0; i < ours.size(); ++i) {
    const double err = std::fabs(double(ours[i]) - p[i]);
    if (!(err <= kRtol * (std::fabs(p[i]) + scale))) {
      if (bad < 5)
        failure << what << "[" << i << "]: ours " << ours[i] << " torch " << p[i] << " (err " << err
                << ")\n";
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return failure << what << ": " << bad << " of " << ours.size() << " values differ";
}

// ---- our side: the kernels composed as MlpLearner::fit composes one training step ---------

struct TwinPass {
  std::vector<std::vector<float>> act;     // per layer: hidden activations, then raw outputs
  std::vector<std::vector<float>> gw, gb;  // parameter gradients of the mean loss
  double loss = 0.0;                       // mean over rows
};

// labels: class indices (as float) when the model has k > 1 outputs, else regression targets.
TwinPass twin_pass(const MlpModel& m, const std::vector<float>& x, const std::vector<float>& y,
                   int n, float rate, uint64_t seed) {
  const size_t layers = m.layers.size();
  TwinPass t;
  t.act.resize(layers);
  t.gw.resize(layers);
  t.gb.resize(layers);
  std::vector<std::vector<float>> dact(layers);
  const float* in = x.data();
  for (size_t l = 0; l < layers; ++l) {
    const DenseLayer& L = m.layers[l];
    t.act[l].assign(size_t(n) * L.out, 0.0f);
    dact[l].assign(t.act[l].size(), 0.0f);
    if (l + 1 < layers) {
      dense_forward_cpu(in, L.w.data(), nullptr, t.act[l].data(), n, L.in, L.out);
      bias_relu_dropout_cpu(t.act[l].data(), L.b.data(), n, L.out, rate, layer_seed(seed, l));
    } else {
      dense_forward_cpu(in, L.w.data(), L.b.data(), t.act[l].data(), n, L.in, L.out);
    }
    in = t.act[l].data();
  }
  const int k = m.outputs();
  const float scale = 1.0f / float(n);
  const double total =
      k == 1 ? mse_cpu(t.act.back().data(), y.data(), dact.back().data(), nullptr, n, scale)
             : softmax_xent_cpu(t.act.back().data(), y.data(), nullptr, dact.back().data(), nullptr,
                                n, k, scale);
  t.loss = total / n;
  for (size_t l = layers; l-- > 0;) {
    const DenseLayer& L = m.layers[l];
    t.gw[l].resize(L.w.size());
    t.gb[l].resize(L.b.size());
    const float* x_in = l == 0 ? x.data() : t.act[l - 1].data();
    float* dx = l == 0 ? nullptr : dact[l - 1].data();
    dense_backward_cpu(x_in, L.w.data(), dact[l].data(), dx, t.gw[l].data(), t.gb[l].data(), n,
                       L.in, L.out);
    if (dx) relu_dropout_backward_cpu(t.act[l - 1].data(), dx, n, L.in, rate);
  }
  return t;
}

// ---- the reference: the same network as LibTorch autograd tensors ------------------------

struct TorchNet {
  std::vector<torch::Tensor> w, b;  // leaves with requires_grad, copied from our model
};

TorchNet to_torch(const MlpModel& m, c10::ScalarType dtype) {
  TorchNet net;
  for (const DenseLayer& L : m.layers) {
    net.w.push_back(to_tensor(L.w, {L.out, L.in}, dtype).requires_grad_(true));
    net.b.push_back(to_tensor(L.b, {L.out}, dtype).requires_grad_(true));
  }
  return net;
}

// Activations per layer: relu(x W^T + b), times our keep mask / (1 - rate) when rate > 0;
// the last layer is linear.
std::vector<torch::Tensor> torch_forward(const TorchNet& net, torch::Tensor x, float rate,
                                         uint64_t seed) {
  std::vector<torch::Tensor> acts;
  const size_t layers = net.w.size();
  for (size_t l = 0; l < layers; ++l) {
    torch::Tensor h = torch::linear(x, net.w[l], net.b[l]);
    if (l + 1 < layers) {
      h = torch::relu(h);
      if (rate > 0.0f) {
        const torch::Tensor keep = our_keep_mask(int(h.size(0)), int(h.size(1)), rate,
                                                 layer_seed(seed, l), h.scalar_type());
        h = h * keep / (1.0 - double(rate));
      }
    }
    acts.push_back(h);
    x = h;
  }
  return acts;
}

// Mean loss: softmax cross-entropy against class indices, or MSE on the single output.
torch::Tensor torch_loss(const torch::Tensor& out, const std::vector<float>& y) {
  const int64_t n = out.size(0);
  if (out.size(1) == 1) return torch::mse_loss(out, to_tensor(y, {n, 1}, out.scalar_type()));
  return torch::cross_entropy_loss(out, to_tensor(y, {n}, torch::kFloat).to(torch::kLong));
}

struct Batch {
  int n;
  std::vector<float> x, y;
};

// k > 1: class labels cycling through every class; k == 1: targets in [-1.5, 1.5].
Batch make_batch(int n, int dim, int k, uint64_t seed) {
  Batch b{n, hashed(size_t(n) * dim, mix_hash(seed, 1), 1.5), {}};
  if (k == 1) {
    b.y = hashed(size_t(n), mix_hash(seed, 2), 1.5);
  } else {
    for (int r = 0; r < n; ++r) b.y.push_back(float((r * 7 + 1) % k));
  }
  return b;
}

const std::vector<int> kDimsCe = {7, 16, 12, 3}, kDimsMse = {7, 16, 12, 1};
constexpr int kRows = 24;
constexpr float kRate = 0.3f;

TEST(LibTorchMlp, ForwardMatchesWithoutAndWithDropout) {
  torch::set_num_threads(1);
  const MlpModel m = make_model(kDimsCe, 11);
  const Batch b = make_batch(kRows, m.dim, 3, 12);
  for (c10::ScalarType dtype : kDtypes) {
    const TorchNet net = to_torch(m, dtype);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = to_tensor(b.x, {b.n, m.dim}, dtype);
    for (float rate : {0.0f, kRate}) {
      SCOPED_TRACE(dtype_name(dtype) + " dropout " + std::to_string(rate));
      const uint64_t seed = 99;
      const TwinPass ours = twin_pass(m, b.x, b.y, b.n, rate, seed);
      const auto ref = torch_forward(net, x, rate, seed);
      for (size_t l = 0; l < ref.size(); ++l)
        EXPECT_TRUE(close(ours.act[l], ref[l], "layer " + std::to_string(l) + " activations"));
      EXPECT_NEAR(ours.loss, torch_loss(ref.back(), b.y).item<double>(), kRtol * ours.loss);
      // The check can fail: some units are inactive, some active, and the mask drops some.
      const auto zeros = (ref[0] == 0).sum().item<int64_t>();
      EXPECT_GT(zeros, 0);
      EXPECT_LT(zeros, ref[0].numel() * 9 / 10);
    }
  }
}

TEST(LibTorchMlp, WholeModelInferenceMatches) {
  // mlp_model.h's predict path: standardize (NaN -> 0), forward_eval, then softmax or
  // de-standardized regression output.
  torch::set_num_threads(1);
  for (const auto* dims : {&kDimsCe, &kDimsMse}) {
    MlpModel m = make_model(*dims, 21);
    m.x_mean = hashed(size_t(m.dim), 22, 3.0);
    m.x_scale = hashed(size_t(m.dim), 23, 1.0);
    for (float& s : m.x_scale) s = 0.5f + std::fabs(s);
    m.y_mean = 4.25f, m.y_scale = 2.5f;
    const int n = kRows, k = m.outputs();
    std::vector<float> raw = hashed(size_t(n) * m.dim, 24, 5.0);
    raw[3] = raw[2 * m.dim + 5] = std::nanf("");
    const MatrixView view{raw.data(), size_t(n), size_t(m.dim), size_t(m.dim), Device::cpu()};
    std::vector<float> xs(size_t(n) * m.dim), a(size_t(n) * m.widest()), bb(a.size()),
        out(size_t(n) * k), pred(out.size());
    mlp::standardize_rows(m, view, 0, n, xs.data());
    mlp::forward_eval(m, xs.data(), n, a.data(), bb.data(), out.data());
    mlp::finish_outputs(m, out.data(), n, pred.data());
    for (c10::ScalarType dtype : kDtypes) {
      SCOPED_TRACE(dtype_name(dtype) + (k == 1 ? " regression" : " multiclass"));
      const TorchNet net = to_torch(m, dtype);
      torch::NoGradGuard no_grad;
      torch::Tensor x = to_tensor(raw, {n, m.dim}, dtype);
      const torch::Tensor z =
          (x - to_tensor(m.x_mean, {m.dim}, dtype)) * to_tensor(m.x_scale, {m.dim}, dtype);
      x = torch::where(torch::isnan(x), torch::zeros_like(z), z);
      EXPECT_TRUE(close(xs, x, "standardized inputs"));
      const torch::Tensor logits = torch_forward(net, x, 0.0f, 0).back();
      EXPECT_TRUE(close(out, logits, "raw outputs"));
      const torch::Tensor expected =
          k == 1 ? logits * double(m.y_scale) + double(m.y_mean) : torch::softmax(logits, 1);
      EXPECT_TRUE(close(pred, expected, "predictions"));
    }
  }
}

TEST(LibTorchMlp, GradientsMatchForCrossEntropyAndMse) {
  torch::set_num_threads(1);
  for (const auto* dims : {&kDimsCe, &kDimsMse}) {
    const MlpModel m = make_model(*dims, 31);
    const Batch b = make_batch(kRows, m.dim, m.outputs(), 32);
    for (float rate : {0.0f, kRate}) {
      const TwinPass ours = twin_pass(m, b.x, b.y, b.n, rate, 33);
      for (c10::ScalarType dtype : kDtypes) {
        SCOPED_TRACE(dtype_name(dtype) + (m.outputs() == 1 ? " mse" : " softmax-ce") + " dropout " +
                     std::to_string(rate));
        const TorchNet net = to_torch(m, dtype);
        const auto acts = torch_forward(net, to_tensor(b.x, {b.n, m.dim}, dtype), rate, 33);
        const torch::Tensor loss = torch_loss(acts.back(), b.y);
        loss.backward();
        EXPECT_NEAR(ours.loss, loss.item<double>(), kRtol * ours.loss);
        for (size_t l = 0; l < m.layers.size(); ++l) {
          EXPECT_TRUE(close(ours.gw[l], net.w[l].grad(), "dL/dW" + std::to_string(l)));
          EXPECT_TRUE(close(ours.gb[l], net.b[l].grad(), "dL/db" + std::to_string(l)));
          EXPECT_GT(net.w[l].grad().abs().max().item<double>(), 1e-3);  // not trivially zero
        }
      }
    }
  }
}

TEST(LibTorchMlp, SoftmaxCrossEntropyRowWeightsMatch) {
  // The row_weight path (not used by the learner yet): sum_r w_r * CE_r and its gradient.
  torch::set_num_threads(1);
  const int n = 9, k = 3;
  const std::vector<float> logits = hashed(size_t(n) * k, 41, 6.0);
  std::vector<float> labels, weights = hashed(size_t(n), 42, 1.0), grad(size_t(n) * k);
  for (float& w : weights) w = 0.25f + std::fabs(w);
  for (int r = 0; r < n; ++r) labels.push_back(float(r % k));
  const float scale = 0.5f;
  const double total = softmax_xent_cpu(logits.data(), labels.data(), weights.data(), grad.data(),
                                        nullptr, n, k, scale);
  const torch::Tensor z = to_tensor(logits, {n, k}, torch::kDouble).requires_grad_(true);
  const torch::Tensor rows = torch::cross_entropy_loss(
      z, to_tensor(labels, {n}, torch::kFloat).to(torch::kLong), {}, at::Reduction::None);
  const torch::Tensor loss = (rows * to_tensor(weights, {n}, torch::kDouble)).sum();
  (loss * double(scale)).backward();
  EXPECT_NEAR(total, loss.item<double>(), kRtol * total);
  EXPECT_TRUE(close(grad, z.grad(), "weighted dL/dlogits"));
}

// AdamW on weights (decayed) and biases (not decayed), as MlpLearner::fit configures it.
TEST(LibTorchMlp, AdamWStepsMatchTorchOptimAdamW) {
  torch::set_num_threads(1);
  AdamConfig cw;
  cw.learning_rate = 0.01f;
  cw.beta1 = 0.85f;
  cw.beta2 = 0.995f;
  cw.eps = 1e-7f;
  cw.weight_decay = 0.05f;
  AdamConfig cb = cw;
  cb.weight_decay = 0.0f;
  auto options = [](const AdamConfig& c) {
    return torch::optim::AdamWOptions(c.learning_rate)
        .betas({double(c.beta1), double(c.beta2)})
        .eps(c.eps)
        .weight_decay(c.weight_decay);
  };
  for (const auto* dims : {&kDimsCe, &kDimsMse}) {
    const MlpModel start = make_model(*dims, 51);
    const Batch b = make_batch(kRows, start.dim, start.outputs(), 52);
    for (c10::ScalarType dtype : kDtypes) {
      SCOPED_TRACE(dtype_name(dtype) + (start.outputs() == 1 ? " mse" : " softmax-ce"));
      MlpModel m = start;
      const size_t layers = m.layers.size();
      std::vector<std::vector<float>> mw(layers), vw(layers), mb(layers), vb(layers);
      for (size_t l = 0; l < layers; ++l) {
        mw[l].assign(m.layers[l].w.size(), 0.0f), vw[l] = mw[l];
        mb[l].assign(m.layers[l].b.size(), 0.0f), vb[l] = mb[l];
      }
      TorchNet net = to_torch(m, dtype);
      std::vector<torch::optim::OptimizerParamGroup> groups;
      groups.emplace_back(net.w, std::make_unique<torch::optim::AdamWOptions>(options(cw)));
      groups.emplace_back(net.b, std::make_unique<torch::optim::AdamWOptions>(options(cb)));
      torch::optim::AdamW opt(std::move(groups), options(cw));
      const torch::Tensor x = to_tensor(b.x, {b.n, m.dim}, dtype);
      for (int step = 1; step <= 3; ++step) {
        // Each step draws a fresh dropout mask, as the learner does.
        const uint64_t seed = mix_hash(53, uint64_t(step));
        const TwinPass g = twin_pass(m, b.x, b.y, b.n, kRate, seed);
        for (size_t l = 0; l < layers; ++l) {
          DenseLayer& L = m.layers[l];
          adamw_step_cpu(L.w.data(), g.gw[l].data(), mw[l].data(), vw[l].data(), L.w.size(), cw,
                         step);
          adamw_step_cpu(L.b.data(), g.gb[l].data(), mb[l].data(), vb[l].data(), L.b.size(), cb,
                         step);
        }
        opt.zero_grad();
        torch_loss(torch_forward(net, x, kRate, seed).back(), b.y).backward();
        opt.step();
        if (step != 1 && step != 3) continue;
        for (size_t l = 0; l < layers; ++l) {
          const std::string at = " after step " + std::to_string(step);
          EXPECT_TRUE(close(m.layers[l].w, net.w[l], "W" + std::to_string(l) + at));
          EXPECT_TRUE(close(m.layers[l].b, net.b[l], "b" + std::to_string(l) + at));
        }
      }
      // Moments after three steps, from the optimizer's per-parameter state.
      auto moments = [&opt](const torch::Tensor& p) -> torch::optim::AdamWParamState& {
        return static_cast<torch::optim::AdamWParamState&>(
            *opt.state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
      };
      for (size_t l = 0; l < layers; ++l) {
        EXPECT_TRUE(close(mw[l], moments(net.w[l]).exp_avg(), "m(W" + std::to_string(l) + ")"));
        EXPECT_TRUE(close(vw[l], moments(net.w[l]).exp_avg_sq(), "v(W" + std::to_string(l) + ")"));
        EXPECT_TRUE(close(vb[l], moments(net.b[l]).exp_avg_sq(), "v(b" + std::to_string(l) + ")"));
        // The steps moved every layer by far more than the tolerance, so the check can fail.
        double moved = 0.0;
        for (size_t i = 0; i < m.layers[l].w.size(); ++i)
          moved = std::max(moved, std::fabs(double(m.layers[l].w[i]) - start.layers[l].w[i]));
        EXPECT_GT(moved, 1000 * kRtol);
      }
    }
  }
}

}  // namespace
}  // namespace tabpilot
