// Internal to the device MLP trainer: the trial-batched kernels of mlp_batched.cu, as
// mlp_train.cu calls them. Device pointers, K trials stacked with per-trial strides, queued on
// `stream`. C++17, no CUDA headers; nothing outside kernels/*.cu should include it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tabpilot/cuda/stream.h"
#include "tabpilot/kernels/mlp_ops.h"

namespace tabpilot::mlp_batched {

constexpr unsigned kMaxLossBlocks = 128;  // first-stage blocks of a per-trial loss sum
constexpr int kMaxSegments = 16;          // (weights, biases) of up to 8 layers

// The flat parameter vector: segment s holds K trials' blocks of per_trial[s] floats from
// base[s] (layer l's weights [K][out][in], then its biases [K][out], layer after layer).
struct Segments {
  int count = 0;
  size_t total = 0;
  size_t base[kMaxSegments] = {};
  size_t per_trial[kMaxSegments] = {};
  int decayed[kMaxSegments] = {};  // weight decay applies (weights, not biases)
};

// The step's AdamW constants, shared by all trials (they take the same steps).
struct AdamScalars {
  float b1, b2, one_minus_b1, one_minus_b2, c1, c2, eps;
};

// xb[k][r] = x[order[k][begin + r]] and yb[k][r] likewise, r < rows.
void gather(const float* x, const float* y, const uint32_t* order, size_t n_total, size_t begin,
            int rows, int dim, int k, size_t xb_stride, size_t yb_stride, float* xb, float* yb,
            StreamHandle stream);

// h[k] = dropout(relu(h[k] + bias[k])) with trial k's rate and mask seed
// mix_hash(seeds[k], counter); rates = nullptr: no dropout (evaluation).
void bias_relu_dropout(float* h, const float* bias, int k, int rows, int width, size_t h_stride,
                       const float* rates, const float* scales, const uint64_t* seeds,
                       uint64_t counter, StreamHandle stream);

void relu_dropout_backward(const float* a, float* da, int k, int rows, int width, size_t stride,
                           const float* scales, StreamHandle stream);

// Loss of raw outputs out[k] (+ bias[k]) against y[k]: grad[k] (null to skip) gets
// dL/d(output) * grad_scale; acc (null to skip) gets acc[k] += the trial's summed loss, via
// partials[k * kMaxLossBlocks + block].
void loss(const float* out, const float* bias, const float* y, int k, int rows, int outputs,
          bool classification, size_t out_stride, size_t y_stride, float* grad,
          float grad_scale, double* partials, double* acc, StreamHandle stream);

// AdamW over the flat parameter vector; trials with active[k] = 0 are left untouched.
void adamw(float* param, const float* grad, float* m, float* v, const Segments& segs,
           const float* lr, const float* decay, const int* active, const AdamScalars& a,
           StreamHandle stream);

// dst = src for the trials with flags[k] != 0.
void copy_masked(const float* src, float* dst, const Segments& segs, const int* flags,
                 StreamHandle stream);

// ---- mixed widths (the grouped path): trial k's blocks lie at prefix-sum offsets ----------

// The flat parameter vector as a table of (segment, trial) blocks in memory order: block j
// spans [start[j], start[j + 1]), belongs to trial[j] and is decayed when decayed[j] != 0.
// Device arrays; count + 1 starts, start[count] = total.
struct SegmentTable {
  int count = 0;
  size_t total = 0;
  const size_t* start = nullptr;
  const int* trial = nullptr;
  const int* decayed = nullptr;
};

// Hidden activations of K trials of widths w[k]: trial k's [rows, w[k]] block starts at
// h + row_stride * prefix[k] and its bias at bias + prefix[k] (prefix: K + 1 device ints,
// prefix[K] = the summed width). Per trial, the same math and mask indices as
// bias_relu_dropout.
void bias_relu_dropout_grouped(float* h, const float* bias, int k, int rows, size_t row_stride,
                               const int* prefix, int total_width, const float* rates,
                               const float* scales, const uint64_t* seeds, uint64_t counter,
                               StreamHandle stream);

void relu_dropout_backward_grouped(const float* a, float* da, int k, int rows,
                                   size_t row_stride, const int* prefix, int total_width,
                                   const float* scales, StreamHandle stream);

void adamw_grouped(float* param, const float* grad, float* m, float* v, const SegmentTable& t,
                   const float* lr, const float* decay, const int* active, const AdamScalars& a,
                   StreamHandle stream);

void copy_masked_grouped(const float* src, float* dst, const SegmentTable& t, const int* flags,
                         StreamHandle stream);

}  // namespace tabpilot::mlp_batched
