// Trial-batched elementwise kernels of the device MLP trainer (mlp_train.cu): K trials' buffers
// stacked as [K, rows, width] with per-trial strides, per-trial hyperparameters read from small
// device arrays. Each is the batched form of an mlp_ops.cu kernel and rounds the same way as
// its CPU twin (explicit _rn intrinsics, no fused multiply-adds). Loss sums are two-stage with
// block counts fixed by the row count, so they are deterministic run to run.
// The *_grouped kernels serve trials of different widths: per-trial blocks at prefix-sum
// offsets, the trial of an element found by binary search in a small device table.
#include <algorithm>
#include <cub/block/block_reduce.cuh>

#include "tabpilot/kernels/grid.cuh"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/kernels/mlp_batched_detail.h"

namespace tabpilot::mlp_batched {
namespace {

using grid::kBlock;
using grid::thread_count;
using grid::thread_index;
using grid::warp_max;
using grid::warp_sum;
constexpr unsigned kWarps = kBlock / 32;

// At least one block (batched launches may cover zero rows), at most 2^20.
unsigned grid_for(size_t n) {
  const size_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min<size_t>(std::max<size_t>(blocks, 1), size_t{1} << 20));
}

__global__ void gather_kernel(const float* __restrict__ x, const float* __restrict__ y,
                              const uint32_t* __restrict__ order, size_t n_total, size_t begin,
                              int rows, int dim, int k_trials, size_t xb_stride,
                              size_t yb_stride, float* __restrict__ xb, float* __restrict__ yb) {
  const size_t per_trial = static_cast<size_t>(rows) * dim;
  const size_t total = per_trial * k_trials;
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const size_t k = e / per_trial, i = e % per_trial;
    const size_t r = i / dim, c = i % dim;
    const size_t src = order[k * n_total + begin + r];
    xb[k * xb_stride + i] = x[src * dim + c];
    if (c == 0) yb[k * yb_stride + r] = y[src];
  }
}

__global__ void bias_relu_dropout_kernel(float* __restrict__ h, const float* __restrict__ bias,
                                         int k_trials, int rows, int width, size_t h_stride,
                                         const float* __restrict__ rates,
                                         const float* __restrict__ scales,
                                         const uint64_t* __restrict__ seeds, uint64_t counter) {
  const size_t per_trial = static_cast<size_t>(rows) * width;
  const size_t total = per_trial * k_trials;
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const size_t k = e / per_trial, i = e % per_trial;
    float* p = h + k * h_stride + i;
    const float z = __fadd_rn(*p, bias[k * width + i % width]);
    float a = z < 0.0f ? 0.0f : z;  // NaN propagates, as on the CPU
    if (rates && rates[k] > 0.0f) {
      // The step's dropout seed, mix_hash(trial seed, step * 4 + layer), as on the CPU.
      const uint64_t seed = mix_hash(seeds[k], counter);
      a = __fmul_rn(a, dropout_keep(seed, i, rates[k]) ? scales[k] : 0.0f);
    }
    *p = a;
  }
}

__global__ void relu_dropout_backward_kernel(const float* __restrict__ a, float* __restrict__ da,
                                             int k_trials, size_t per_trial, size_t stride,
                                             const float* __restrict__ scales) {
  const size_t total = per_trial * k_trials;
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const size_t k = e / per_trial, i = k * stride + e % per_trial;
    da[i] = __fmul_rn(da[i], a[i] > 0.0f ? scales[k] : 0.0f);
  }
}

// Per-trial MSE on raw outputs (GEMM result + output bias). grid (blocks, K).
__global__ void mse_kernel(const float* __restrict__ out, const float* __restrict__ bias,
                           const float* __restrict__ y, int rows, size_t out_stride,
                           size_t y_stride, float* __restrict__ grad, float grad_scale,
                           double* __restrict__ partials) {
  using Reduce = cub::BlockReduce<double, kBlock>;
  __shared__ typename Reduce::TempStorage temp;
  const unsigned k = blockIdx.y;
  const float b = bias[k];
  double acc = 0.0;
  for (int r = blockIdx.x * kBlock + threadIdx.x; r < rows; r += gridDim.x * kBlock) {
    const float pred = __fadd_rn(out[k * out_stride + r], b);
    const float d = __fsub_rn(pred, y[k * y_stride + r]);
    if (grad) grad[k * out_stride + r] = __fmul_rn(__fmul_rn(2.0f, d), grad_scale);
    acc += static_cast<double>(d) * d;
  }
  if (!partials) return;
  const double total = Reduce(temp).Sum(acc);
  if (threadIdx.x == 0) partials[k * kMaxLossBlocks + blockIdx.x] = total;
}

// Per-trial softmax cross-entropy, one warp per row. grid (blocks, K).
__global__ void xent_kernel(const float* __restrict__ out, const float* __restrict__ bias,
                            const float* __restrict__ y, int rows, int classes,
                            size_t out_stride, size_t y_stride, float* __restrict__ grad,
                            float grad_scale, double* __restrict__ partials) {
  __shared__ double per_warp[kWarps];
  const unsigned k = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const float* bk = bias + static_cast<size_t>(k) * classes;
  double acc = 0.0;
  for (int r = blockIdx.x * kWarps + warp; r < rows; r += gridDim.x * kWarps) {
    const float* z = out + k * out_stride + static_cast<size_t>(r) * classes;
    float zmax = -INFINITY;
    for (int c = lane; c < classes; c += 32) zmax = fmaxf(zmax, __fadd_rn(z[c], bk[c]));
    zmax = warp_max(zmax);
    float sum = 0.0f;
    for (int c = lane; c < classes; c += 32)
      sum = __fadd_rn(sum, expf(__fsub_rn(__fadd_rn(z[c], bk[c]), zmax)));
    sum = warp_sum(sum);
    const float log_sum = logf(sum);
    const int label = static_cast<int>(y[k * y_stride + r]);
    const bool valid = label >= 0 && label < classes;
    const float zl = valid ? __fadd_rn(z[label], bk[label]) : NAN;
    const float loss = __fsub_rn(log_sum, __fsub_rn(zl, zmax));
    if (lane == 0) acc += static_cast<double>(loss);
    if (grad) {
      float* g = grad + k * out_stride + static_cast<size_t>(r) * classes;
      for (int c = lane; c < classes; c += 32) {
        const float p = expf(__fsub_rn(__fsub_rn(__fadd_rn(z[c], bk[c]), zmax), log_sum));
        g[c] = __fmul_rn(__fsub_rn(p, c == label ? 1.0f : 0.0f), grad_scale);
      }
    }
  }
  if (!partials) return;
  if (lane == 0) per_warp[warp] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double s = 0.0;
    for (unsigned i = 0; i < kWarps; ++i) s += per_warp[i];
    partials[k * kMaxLossBlocks + blockIdx.x] = s;
  }
}

// acc[k] += sum of the trial's first `blocks` partials, in a fixed order. grid K.
__global__ void finish_kernel(const double* __restrict__ partials, unsigned blocks,
                              double* __restrict__ acc) {
  using Reduce = cub::BlockReduce<double, kMaxLossBlocks>;
  __shared__ typename Reduce::TempStorage temp;
  const unsigned k = blockIdx.x;
  const double v = threadIdx.x < blocks ? partials[k * kMaxLossBlocks + threadIdx.x] : 0.0;
  const double total = Reduce(temp).Sum(v);
  if (threadIdx.x == 0) acc[k] += total;
}

__device__ inline int segment_of(const Segments& s, size_t e) {
  int i = 0;
  while (i + 1 < s.count && e >= s.base[i + 1]) ++i;
  return i;
}

__global__ void adamw_kernel(float* __restrict__ param, const float* __restrict__ grad,
                             float* __restrict__ m, float* __restrict__ v, Segments segs,
                             const float* __restrict__ lr, const float* __restrict__ decay,
                             const int* __restrict__ active, AdamScalars a) {
  for (size_t e = thread_index(); e < segs.total; e += thread_count()) {
    const int s = segment_of(segs, e);
    const size_t k = (e - segs.base[s]) / segs.per_trial[s];
    if (!active[k]) continue;  // a finished trial's weights stay where they are
    const float g = grad[e];
    const float mi = __fadd_rn(__fmul_rn(a.b1, m[e]), __fmul_rn(a.one_minus_b1, g));
    const float vi = __fadd_rn(__fmul_rn(a.b2, v[e]), __fmul_rn(__fmul_rn(a.one_minus_b2, g), g));
    m[e] = mi;
    v[e] = vi;
    const float mhat = __fdiv_rn(mi, a.c1);
    const float vhat = __fdiv_rn(vi, a.c2);
    const float step = __fdiv_rn(__fmul_rn(lr[k], mhat), __fadd_rn(__fsqrt_rn(vhat), a.eps));
    const float d = segs.decayed[s] ? decay[k] : 1.0f;  // biases are not decayed
    param[e] = __fsub_rn(__fmul_rn(param[e], d), step);
  }
}

__global__ void copy_masked_kernel(const float* __restrict__ src, float* __restrict__ dst,
                                   Segments segs, const int* __restrict__ flags) {
  for (size_t e = thread_index(); e < segs.total; e += thread_count()) {
    const int s = segment_of(segs, e);
    if (flags[(e - segs.base[s]) / segs.per_trial[s]]) dst[e] = src[e];
  }
}

// ---- mixed widths: per-trial offsets from prefix sums ------------------------------------

// The largest j in [0, n) with starts[j] <= q (starts ascending, starts[0] = 0).
template <typename T>
__device__ inline int block_of(const T* __restrict__ starts, int n, size_t q) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (static_cast<size_t>(starts[mid]) <= q) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Element e of the flattened [rows, sum w] space lies in trial k when rows * prefix[k] <= e <
// rows * prefix[k + 1], i.e. prefix[k] <= e / rows.
__global__ void bias_relu_dropout_grouped_kernel(
    float* __restrict__ h, const float* __restrict__ bias, int k_trials, int rows,
    size_t row_stride, const int* __restrict__ prefix, size_t total,
    const float* __restrict__ rates, const float* __restrict__ scales,
    const uint64_t* __restrict__ seeds, uint64_t counter) {
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const int k = block_of(prefix, k_trials, e / rows);
    const size_t first = static_cast<size_t>(prefix[k]);
    const size_t width = static_cast<size_t>(prefix[k + 1]) - first;
    const size_t i = e - static_cast<size_t>(rows) * first;
    float* p = h + row_stride * first + i;
    const float z = __fadd_rn(*p, bias[first + i % width]);
    float a = z < 0.0f ? 0.0f : z;
    if (rates && rates[k] > 0.0f) {
      const uint64_t seed = mix_hash(seeds[k], counter);
      a = __fmul_rn(a, dropout_keep(seed, i, rates[k]) ? scales[k] : 0.0f);
    }
    *p = a;
  }
}

__global__ void relu_dropout_backward_grouped_kernel(const float* __restrict__ a,
                                                     float* __restrict__ da, int k_trials,
                                                     int rows, size_t row_stride,
                                                     const int* __restrict__ prefix,
                                                     size_t total,
                                                     const float* __restrict__ scales) {
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const int k = block_of(prefix, k_trials, e / rows);
    const size_t first = static_cast<size_t>(prefix[k]);
    const size_t i = row_stride * first + (e - static_cast<size_t>(rows) * first);
    da[i] = __fmul_rn(da[i], a[i] > 0.0f ? scales[k] : 0.0f);
  }
}

__global__ void adamw_grouped_kernel(float* __restrict__ param, const float* __restrict__ grad,
                                     float* __restrict__ m, float* __restrict__ v,
                                     SegmentTable t, const float* __restrict__ lr,
                                     const float* __restrict__ decay,
                                     const int* __restrict__ active, AdamScalars a) {
  for (size_t e = thread_index(); e < t.total; e += thread_count()) {
    const int j = block_of(t.start, t.count, e);
    const int k = t.trial[j];
    if (!active[k]) continue;
    const float g = grad[e];
    const float mi = __fadd_rn(__fmul_rn(a.b1, m[e]), __fmul_rn(a.one_minus_b1, g));
    const float vi = __fadd_rn(__fmul_rn(a.b2, v[e]), __fmul_rn(__fmul_rn(a.one_minus_b2, g), g));
    m[e] = mi;
    v[e] = vi;
    const float mhat = __fdiv_rn(mi, a.c1);
    const float vhat = __fdiv_rn(vi, a.c2);
    const float step = __fdiv_rn(__fmul_rn(lr[k], mhat), __fadd_rn(__fsqrt_rn(vhat), a.eps));
    const float d = t.decayed[j] ? decay[k] : 1.0f;
    param[e] = __fsub_rn(__fmul_rn(param[e], d), step);
  }
}

__global__ void copy_masked_grouped_kernel(const float* __restrict__ src, float* __restrict__ dst,
                                           SegmentTable t, const int* __restrict__ flags) {
  for (size_t e = thread_index(); e < t.total; e += thread_count())
    if (flags[t.trial[block_of(t.start, t.count, e)]]) dst[e] = src[e];
}

}  // namespace

void gather(const float* x, const float* y, const uint32_t* order, size_t n_total, size_t begin,
            int rows, int dim, int k, size_t xb_stride, size_t yb_stride, float* xb, float* yb,
            StreamHandle stream) {
  const size_t total = static_cast<size_t>(rows) * dim * k;
  gather_kernel<<<grid_for(total), kBlock, 0, stream>>>(x, y, order, n_total, begin, rows, dim, k,
                                                         xb_stride, yb_stride, xb, yb);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void bias_relu_dropout(float* h, const float* bias, int k, int rows, int width, size_t h_stride,
                       const float* rates, const float* scales, const uint64_t* seeds,
                       uint64_t counter, StreamHandle stream) {
  const size_t total = static_cast<size_t>(rows) * width * k;
  bias_relu_dropout_kernel<<<grid_for(total), kBlock, 0, stream>>>(
      h, bias, k, rows, width, h_stride, rates, scales, seeds, counter);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void relu_dropout_backward(const float* a, float* da, int k, int rows, int width, size_t stride,
                           const float* scales, StreamHandle stream) {
  const size_t per_trial = static_cast<size_t>(rows) * width;
  relu_dropout_backward_kernel<<<grid_for(per_trial * k), kBlock, 0, stream>>>(
      a, da, k, per_trial, stride, scales);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

unsigned loss_blocks(int rows, bool classification) {
  const unsigned per_block = classification ? kWarps : kBlock;
  const unsigned b = (static_cast<unsigned>(rows) + per_block - 1) / per_block;
  return std::max(1u, std::min(b, kMaxLossBlocks));
}

void loss(const float* out, const float* bias, const float* y, int k, int rows, int outputs,
          bool classification, size_t out_stride, size_t y_stride, float* grad,
          float grad_scale, double* partials, double* acc, StreamHandle stream) {
  const unsigned blocks = loss_blocks(rows, classification);
  const dim3 grid(blocks, k);
  if (classification)
    xent_kernel<<<grid, kBlock, 0, stream>>>(out, bias, y, rows, outputs, out_stride, y_stride,
                                             grad, grad_scale, acc ? partials : nullptr);
  else
    mse_kernel<<<grid, kBlock, 0, stream>>>(out, bias, y, rows, out_stride, y_stride, grad,
                                            grad_scale, acc ? partials : nullptr);
  TABPILOT_CUDA_CHECK_LAUNCH();
  if (!acc) return;
  finish_kernel<<<k, kMaxLossBlocks, 0, stream>>>(partials, blocks, acc);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void adamw(float* param, const float* grad, float* m, float* v, const Segments& segs,
           const float* lr, const float* decay, const int* active, const AdamScalars& a,
           StreamHandle stream) {
  adamw_kernel<<<grid_for(segs.total), kBlock, 0, stream>>>(param, grad, m, v, segs, lr, decay,
                                                             active, a);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void copy_masked(const float* src, float* dst, const Segments& segs, const int* flags,
                 StreamHandle stream) {
  copy_masked_kernel<<<grid_for(segs.total), kBlock, 0, stream>>>(src, dst, segs, flags);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void bias_relu_dropout_grouped(float* h, const float* bias, int k, int rows, size_t row_stride,
                               const int* prefix, int total_width, const float* rates,
                               const float* scales, const uint64_t* seeds, uint64_t counter,
                               StreamHandle stream) {
  const size_t total = static_cast<size_t>(rows) * total_width;
  bias_relu_dropout_grouped_kernel<<<grid_for(total), kBlock, 0, stream>>>(
      h, bias, k, rows, row_stride, prefix, total, rates, scales, seeds, counter);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void relu_dropout_backward_grouped(const float* a, float* da, int k, int rows,
                                   size_t row_stride, const int* prefix, int total_width,
                                   const float* scales, StreamHandle stream) {
  const size_t total = static_cast<size_t>(rows) * total_width;
  relu_dropout_backward_grouped_kernel<<<grid_for(total), kBlock, 0, stream>>>(
      a, da, k, rows, row_stride, prefix, total, scales);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void adamw_grouped(float* param, const float* grad, float* m, float* v, const SegmentTable& t,
                   const float* lr, const float* decay, const int* active, const AdamScalars& a,
                   StreamHandle stream) {
  adamw_grouped_kernel<<<grid_for(t.total), kBlock, 0, stream>>>(param, grad, m, v, t, lr,
                                                                  decay, active, a);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void copy_masked_grouped(const float* src, float* dst, const SegmentTable& t, const int* flags,
                         StreamHandle stream) {
  copy_masked_grouped_kernel<<<grid_for(t.total), kBlock, 0, stream>>>(src, dst, t, flags);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

}  // namespace tabpilot::mlp_batched
