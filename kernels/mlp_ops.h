// The MLP's compute steps on raw row-major float buffers: dense layers, fused bias+ReLU+dropout,
// losses and the AdamW update. The _cpu functions are the reference twins of the future
// mlp_ops.cu (_cuda, same arguments); the trainer composes them into forward/backward passes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tabpilot/kernels/host_device.h"

namespace tabpilot {

// Counter-based random numbers: a pure function of (seed, index), so a CPU loop and a GPU grid
// draw the same dropout mask regardless of how the work is split. SplitMix64's finalizer.
TABPILOT_HOST_DEVICE inline uint64_t mix_hash(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 24 bits, exactly representable in float on both devices.
TABPILOT_HOST_DEVICE inline float uniform_from_hash(uint64_t h) {
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

// Whether element `index` survives dropout with drop probability `rate`.
TABPILOT_HOST_DEVICE inline bool dropout_keep(uint64_t seed, uint64_t index, float rate) {
  return uniform_from_hash(mix_hash(seed, index)) >= rate;
}

// y[n, out] = x[n, in] * w[out, in]^T (+ b[out] when b is not null). One SGEMM.
void dense_forward_cpu(const float* x, const float* w, const float* b, float* y, int n, int in,
                       int out);

// Gradients of y = x w^T + b given dy[n, out]: dw[out, in] = dy^T x and db[out] = column sums
// of dy (both overwritten), dx[n, in] = dy w. Any of dx, dw, db may be null to skip it.
void dense_backward_cpu(const float* x, const float* w, const float* dy, float* dx, float* dw,
                        float* db, int n, int in, int out);

// In place on h[n, width] (the pre-activation without bias): h = relu(h + bias), then inverted
// dropout: element i = r * width + c is zeroed unless dropout_keep(seed, i, rate), survivors
// scaled by 1 / (1 - rate). rate = 0 disables dropout (inference). rate must be in [0, 1).
void bias_relu_dropout_cpu(float* h, const float* bias, int n, int width, float rate,
                           uint64_t seed);

// Backward of bias_relu_dropout_cpu from its output a: da becomes dL/d(pre-activation).
// a > 0 exactly where the unit was active and kept, so no mask needs storing; kept units pass
// da / (1 - rate), the rest pass 0.
void relu_dropout_backward_cpu(const float* a, float* da, int n, int width, float rate);

// Softmax cross-entropy of logits[n, k] against class indices labels[n] (stored as float).
// row_loss[n] = -log softmax(logits)[label] (null to skip); grad[n, k] (null to skip) =
// (softmax - onehot) * grad_scale * (row_weight ? row_weight[r] : 1). Max-shifted, so stable
// for any finite logits. Returns the sum of row losses (weighted when row_weight is given), in
// double.
double softmax_xent_cpu(const float* logits, const float* labels, const float* row_weight,
                        float* grad, float* row_loss, int n, int k, float grad_scale);

// Squared error of pred[count] against target[count]: row_loss = (p - t)^2 (null to skip),
// grad = 2 (p - t) * grad_scale (null to skip). Returns the sum of squared errors in double.
double mse_cpu(const float* pred, const float* target, float* grad, float* row_loss, size_t count,
               float grad_scale);

struct AdamConfig {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  // decoupled (AdamW): p -= lr * wd * p, independent of the gradient
};

// One AdamW step at 1-based step t: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p = p - lr * wd * p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
void adamw_step_cpu(float* param, const float* grad, float* m, float* v, size_t count,
                    const AdamConfig& config, int t);

}  // namespace tabpilot
