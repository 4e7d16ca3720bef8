#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "tabpilot/kernels/mlp_ops.h"

namespace tabpilot {

void dense_forward_cpu(const float* x, const float* w, const float* b, float* y, int n, int in,
                       int out) {
  if (n <= 0 || out <= 0) return;
  float beta = 0.0f;
  if (b) {
    // Seeding y with the bias lets the GEMM add it (beta = 1) without a second pass.
    for (int r = 0; r < n; ++r) std::copy(b, b + out, y + static_cast<size_t>(r) * out);
    beta = 1.0f;
  }
  if (in <= 0) {
    if (!b) std::fill(y, y + static_cast<size_t>(n) * out, 0.0f);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, beta, y,
              out);
}

void dense_backward_cpu(const float* x, const float* w, const float* dy, float* dx, float* dw,
                        float* db, int n, int in, int out) {
  if (n <= 0) {
    // A GEMM with an empty inner dimension is not portable across BLAS builds.
    if (dw) std::fill(dw, dw + static_cast<size_t>(out) * in, 0.0f);
    if (db) std::fill(db, db + out, 0.0f);
    return;
  }
  if (dw && in > 0 && out > 0)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 0.0f, dw,
                in);
  if (dx && in > 0) {
    if (out > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in, 0.0f,
                  dx, in);
    else
      std::fill(dx, dx + static_cast<size_t>(n) * in, 0.0f);
  }
  if (db) {
    std::fill(db, db + out, 0.0f);
    for (int r = 0; r < n; ++r) {
      const float* row = dy + static_cast<size_t>(r) * out;
      for (int c = 0; c < out; ++c) db[c] += row[c];
    }
  }
}

void bias_relu_dropout_cpu(float* h, const float* bias, int n, int width, float rate,
                           uint64_t seed) {
  const bool drop = rate > 0.0f;
  const float scale = drop ? 1.0f / (1.0f - rate) : 1.0f;
  // Written without data-dependent branches: ReLU and keep/drop are each ~50/50 or random,
  // and mispredictions would cost more than the hash.
  for (int r = 0; r < n; ++r) {
    float* row = h + static_cast<size_t>(r) * width;
    for (int c = 0; c < width; ++c) {
      const float z = row[c] + (bias ? bias[c] : 0.0f);
      row[c] = z < 0.0f ? 0.0f : z;  // NaN propagates (as in PyTorch) so the loss check sees it
    }
    if (!drop) continue;
    const uint64_t base = static_cast<uint64_t>(r) * width;
    for (int c = 0; c < width; ++c) row[c] *= dropout_keep(seed, base + c, rate) ? scale : 0.0f;
  }
}

void relu_dropout_backward_cpu(const float* a, float* da, int n, int width, float rate) {
  const float scale = rate > 0.0f ? 1.0f / (1.0f - rate) : 1.0f;
  const size_t count = static_cast<size_t>(n) * width;
  for (size_t i = 0; i < count; ++i) da[i] *= a[i] > 0.0f ? scale : 0.0f;
}

double softmax_xent_cpu(const float* logits, const float* labels, const float* row_weight,
                        float* grad, float* row_loss, int n, int k, float grad_scale) {
  double total = 0.0;
  for (int r = 0; r < n; ++r) {
    const float* z = logits + static_cast<size_t>(r) * k;
    const int label = static_cast<int>(labels[r]);
    float zmax = z[0];
    for (int c = 1; c < k; ++c) zmax = std::max(zmax, z[c]);
    float sum = 0.0f;
    for (int c = 0; c < k; ++c) sum += std::exp(z[c] - zmax);
    const float log_sum = std::log(sum);
    const float loss = log_sum - (z[label] - zmax);
    const float wr = row_weight ? row_weight[r] : 1.0f;
    if (row_loss) row_loss[r] = loss;
    total += static_cast<double>(loss) * wr;
    if (grad) {
      float* g = grad + static_cast<size_t>(r) * k;
      const float s = grad_scale * wr;
      for (int c = 0; c < k; ++c) {
        float p = std::exp(z[c] - zmax - log_sum);
        g[c] = (p - (c == label ? 1.0f : 0.0f)) * s;
      }
    }
  }
  return total;
}

double mse_cpu(const float* pred, const float* target, float* grad, float* row_loss, size_t count,
               float grad_scale) {
  double total = 0.0;
  for (size_t i = 0; i < count; ++i) {
    const float d = pred[i] - target[i];
    if (row_loss) row_loss[i] = d * d;
    if (grad) grad[i] = 2.0f * d * grad_scale;
    total += static_cast<double>(d) * d;
  }
  return total;
}

void adamw_step_cpu(float* param, const float* grad, float* m, float* v, size_t count,
                    const AdamConfig& config, int t) {
  const float b1 = config.beta1, b2 = config.beta2;
  // Bias corrections in double: at small t, 1 - b^t loses digits in float.
  const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), t));
  const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(b2), t));
  const float lr = config.learning_rate;
  const float decay = 1.0f - lr * config.weight_decay;
  for (size_t i = 0; i < count; ++i) {
    const float g = grad[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    const float mhat = m[i] / c1;
    const float vhat = v[i] / c2;
    param[i] = param[i] * decay - lr * mhat / (std::sqrt(vhat) + config.eps);
  }
}

}  // namespace tabpilot
