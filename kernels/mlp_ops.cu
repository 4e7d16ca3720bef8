// CUDA twins of mlp_ops_cpu.cpp. GEMMs go through cuBLAS (row-major buffers are passed as their
// column-major transposes); elementwise kernels use _rn intrinsics so that nvcc does not fuse
// multiply-adds the CPU twin computes separately. Reductions are two-stage with a grid size fixed
// by the problem size, so sums are deterministic run to run.
#include <math_constants.h>  // for CUDART_NAN_F

#include <algorithm>
#include <cmath>
#include <cub/block/block_reduce.cuh>

#include "tabpilot/kernels/grid.cuh"
#include "tabpilot/cuda/cublas_handle.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/cuda/memory_pool.h"
#include "tabpilot/kernels/mlp_ops_cuda.h"

namespace tabpilot {
namespace {

using grid::kBlock;
using grid::grid_for;
using grid::thread_count;
using grid::thread_index;
using grid::warp_max;
using grid::warp_sum;
constexpr unsigned kWarpsPerBlock = kBlock / 32;
constexpr unsigned kMaxPartials = 1024;  // blocks in a reduction's first stage

MemoryPool& current_pool() {
  int ordinal = 0;
  TABPILOT_CUDA_CHECK(cudaGetDevice(&ordinal));
  return MemoryPool::for_device(Device::cuda(ordinal));
}

// ---- reductions -------------------------------------------------------------------------

// Second stage: one block sums the first stage's per-block partials into partials[count].
__global__ void finish_sum_kernel(double* partials, unsigned count) {
  using Reduce = cub::BlockReduce<double, kMaxPartials>;
  __shared__ typename Reduce::TempStorage temp;
  const double v = threadIdx.x < count ? partials[threadIdx.x] : 0.0;
  const double total = Reduce(temp).Sum(v);
  if (threadIdx.x == 0) partials[count] = total;
}

// Runs the second stage and copies the total to the host (waits for the stream).
double finish_sum(DeviceBuffer<double>& partials, unsigned count, StreamHandle stream) {
  finish_sum_kernel<<<1, kMaxPartials, 0, stream>>>(partials.data(), count);
  TABPILOT_CUDA_CHECK_LAUNCH();
  double total = 0.0;
  copy_to_host(&total, partials.data() + count, sizeof(double), stream);
  return total;
}

// Per-block sum of one value per warp, in warp order; thread 0 writes it.
__device__ void block_sum_of_warps(double warp_value, double* partial_out) {
  __shared__ double per_warp[kWarpsPerBlock];
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) per_warp[warp] = warp_value;
  __syncthreads();
  if (threadIdx.x == 0) {
    double s = 0.0;
    for (unsigned i = 0; i < kWarpsPerBlock; ++i) s += per_warp[i];
    *partial_out = s;
  }
}

// ---- dense layers -----------------------------------------------------------------------

__global__ void broadcast_rows_kernel(const float* __restrict__ b, float* __restrict__ y,
                                      size_t rows, int cols) {
  const size_t total = rows * static_cast<size_t>(cols);
  for (size_t e = thread_index(); e < total; e += thread_count()) y[e] = b[e % cols];
}

// db[c] = sum over rows of dy[r, c]: 32 columns per block, 8 row lanes summed in fixed order.
__global__ void column_sum_kernel(const float* __restrict__ dy, float* __restrict__ db, int n,
                                  int out) {
  __shared__ float part[8][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  float s = 0.0f;
  if (c < out)
    for (int r = threadIdx.y; r < n; r += 8) s += dy[static_cast<size_t>(r) * out + c];
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < out) {
    float t = 0.0f;
    for (int i = 0; i < 8; ++i) t += part[i][threadIdx.x];
    db[c] = t;
  }
}

// ---- activations ------------------------------------------------------------------------

__global__ void bias_relu_dropout_kernel(float* __restrict__ h, const float* __restrict__ bias,
                                         size_t total, int width, float rate, float scale,
                                         uint64_t seed) {
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const float z = __fadd_rn(h[e], bias ? bias[e % width] : 0.0f);
    float a = z < 0.0f ? 0.0f : z;  // NaN propagates, as on the CPU
    if (rate > 0.0f) a = __fmul_rn(a, dropout_keep(seed, e, rate) ? scale : 0.0f);
    h[e] = a;
  }
}

__global__ void relu_dropout_backward_kernel(const float* __restrict__ a, float* __restrict__ da,
                                             size_t total, float scale) {
  for (size_t e = thread_index(); e < total; e += thread_count())
    da[e] = __fmul_rn(da[e], a[e] > 0.0f ? scale : 0.0f);
}

// ---- losses and metrics -----------------------------------------------------------------

// One warp per row.
__global__ void softmax_xent_kernel(const float* __restrict__ logits,
                                    const float* __restrict__ labels,
                                    const float* __restrict__ row_weight,
                                    float* __restrict__ grad, float* __restrict__ row_loss, int n,
                                    int k, float grad_scale, double* __restrict__ partials) {
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  double acc = 0.0;
  for (int r = blockIdx.x * kWarpsPerBlock + warp; r < n; r += gridDim.x * kWarpsPerBlock) {
    const float* z = logits + static_cast<size_t>(r) * k;
    float zmax = -CUDART_INF_F;
    for (int c = lane; c < k; c += 32) zmax = fmaxf(zmax, z[c]);
    zmax = warp_max(zmax);
    float sum = 0.0f;
    for (int c = lane; c < k; c += 32) sum = __fadd_rn(sum, expf(__fsub_rn(z[c], zmax)));
    sum = warp_sum(sum);
    const float log_sum = logf(sum);
    const float lf = labels[r];
    const int label = static_cast<int>(lf);
    const bool valid = label >= 0 && label < k;
    const float loss = valid ? __fsub_rn(log_sum, __fsub_rn(z[label], zmax)) : CUDART_NAN_F;
    const float wr = row_weight ? row_weight[r] : 1.0f;
    if (lane == 0) {
      if (row_loss) row_loss[r] = loss;
      acc += static_cast<double>(loss) * wr;
    }
    if (grad) {
      float* g = grad + static_cast<size_t>(r) * k;
      const float s = __fmul_rn(grad_scale, wr);
      for (int c = lane; c < k; c += 32) {
        const float p = expf(__fsub_rn(__fsub_rn(z[c], zmax), log_sum));
        g[c] = __fmul_rn(__fsub_rn(p, c == label ? 1.0f : 0.0f), s);
      }
    }
  }
  block_sum_of_warps(acc, &partials[blockIdx.x]);
}

__global__ void mse_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                           float* __restrict__ grad, float* __restrict__ row_loss, size_t count,
                           float grad_scale, double* __restrict__ partials) {
  using Reduce = cub::BlockReduce<double, kBlock>;
  __shared__ typename Reduce::TempStorage temp;
  double acc = 0.0;
  for (size_t i = thread_index(); i < count; i += thread_count()) {
    const float d = __fsub_rn(pred[i], target[i]);
    if (row_loss) row_loss[i] = __fmul_rn(d, d);
    if (grad) grad[i] = __fmul_rn(__fmul_rn(2.0f, d), grad_scale);
    acc += static_cast<double>(d) * d;
  }
  const double total = Reduce(temp).Sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

// One warp per row; ties go to the lower index, as std::max_element does.
__global__ void argmax_correct_kernel(const float* __restrict__ scores,
                                      const float* __restrict__ labels, int n, int k,
                                      double* __restrict__ partials) {
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  double correct = 0.0;
  for (int r = blockIdx.x * kWarpsPerBlock + warp; r < n; r += gridDim.x * kWarpsPerBlock) {
    const float* s = scores + static_cast<size_t>(r) * k;
    float best = -CUDART_INF_F;
    int best_c = k;
    for (int c = lane; c < k; c += 32)
      if (s[c] > best || best_c == k) best = s[c], best_c = c;
    for (int o = 16; o > 0; o >>= 1) {
      const float ov = __shfl_xor_sync(0xffffffffu, best, o);
      const int oc = __shfl_xor_sync(0xffffffffu, best_c, o);
      if (oc < k && (best_c == k || ov > best || (ov == best && oc < best_c)))
        best = ov, best_c = oc;
    }
    if (lane == 0 && static_cast<float>(best_c) == labels[r]) correct += 1.0;
  }
  block_sum_of_warps(correct, &partials[blockIdx.x]);
}

__global__ void adamw_kernel(float* __restrict__ param, const float* __restrict__ grad,
                             float* __restrict__ m, float* __restrict__ v, size_t count, float b1,
                             float b2, float one_minus_b1, float one_minus_b2, float c1, float c2,
                             float lr, float eps, float decay) {
  for (size_t i = thread_index(); i < count; i += thread_count()) {
    const float g = grad[i];
    const float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(one_minus_b1, g));
    const float vi = __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(__fmul_rn(one_minus_b2, g), g));
    m[i] = mi;
    v[i] = vi;
    const float mhat = __fdiv_rn(mi, c1);
    const float vhat = __fdiv_rn(vi, c2);
    const float step = __fdiv_rn(__fmul_rn(lr, mhat), __fadd_rn(__fsqrt_rn(vhat), eps));
    param[i] = __fsub_rn(__fmul_rn(param[i], decay), step);
  }
}

unsigned row_warp_grid(int n) {
  const unsigned blocks = (static_cast<unsigned>(n) + kWarpsPerBlock - 1) / kWarpsPerBlock;
  return std::min(blocks, kMaxPartials);
}

}  // namespace

void dense_forward_cuda(const float* x, const float* w, const float* b, float* y, int n, int in,
                        int out, StreamHandle stream) {
  if (n <= 0 || out <= 0) return;
  const size_t total = static_cast<size_t>(n) * out;
  float beta = 0.0f;
  if (b) {
    broadcast_rows_kernel<<<grid_for(total), kBlock, 0, stream>>>(b, y, n, out);
    TABPILOT_CUDA_CHECK_LAUNCH();
    beta = 1.0f;
  }
  if (in <= 0) {
    if (!b) fill_zero_async(y, total * sizeof(float), stream);
    return;
  }
  // Column-major view: y^T[out, n] = w[out, in] (stored as w^T) ^T * x^T[in, n].
  const float alpha = 1.0f;
  TABPILOT_CUBLAS_CHECK(cublasSgemm(BlasHandle::current(stream).raw(), CUBLAS_OP_T, CUBLAS_OP_N,
                                    out, n, in, &alpha, w, in, x, in, &beta, y, out));
}

void dense_backward_cuda(const float* x, const float* w, const float* dy, float* dx, float* dw,
                         float* db, int n, int in, int out, StreamHandle stream) {
  if (n <= 0) {
    if (dw) fill_zero_async(dw, static_cast<size_t>(out) * in * sizeof(float), stream);
    if (db) fill_zero_async(db, static_cast<size_t>(out) * sizeof(float), stream);
    return;
  }
  const float alpha = 1.0f, beta = 0.0f;
  if ((dw && in > 0 && out > 0) || (dx && in > 0 && out > 0)) {
    cublasHandle_t h = BlasHandle::current(stream).raw();
    // dw^T[in, out] = x^T[in, n] * dy[n, out]  (column-major: A = x, B = dy^T transposed)
    if (dw && in > 0 && out > 0)
      TABPILOT_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &alpha, x, in,
                                        dy, out, &beta, dw, in));
    // dx^T[in, n] = w^T[in, out] * dy^T[out, n]
    if (dx && in > 0 && out > 0)
      TABPILOT_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &alpha, w, in,
                                        dy, out, &beta, dx, in));
  }
  if (dx && in > 0 && out <= 0)
    fill_zero_async(dx, static_cast<size_t>(n) * in * sizeof(float), stream);
  if (db && out > 0) {
    column_sum_kernel<<<(out + 31) / 32, dim3(32, 8), 0, stream>>>(dy, db, n, out);
    TABPILOT_CUDA_CHECK_LAUNCH();
  }
}

void bias_relu_dropout_cuda(float* h, const float* bias, int n, int width, float rate,
                            uint64_t seed, StreamHandle stream) {
  if (n <= 0 || width <= 0) return;
  const float scale = rate > 0.0f ? 1.0f / (1.0f - rate) : 1.0f;
  const size_t total = static_cast<size_t>(n) * width;
  bias_relu_dropout_kernel<<<grid_for(total), kBlock, 0, stream>>>(h, bias, total, width, rate,
                                                                     scale, seed);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void relu_dropout_backward_cuda(const float* a, float* da, int n, int width, float rate,
                                StreamHandle stream) {
  if (n <= 0 || width <= 0) return;
  const float scale = rate > 0.0f ? 1.0f / (1.0f - rate) : 1.0f;
  const size_t total = static_cast<size_t>(n) * width;
  relu_dropout_backward_kernel<<<grid_for(total), kBlock, 0, stream>>>(a, da, total, scale);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

double softmax_xent_cuda(const float* logits, const float* labels, const float* row_weight,
                         float* grad, float* row_loss, int n, int k, float grad_scale,
                         StreamHandle stream) {
  if (n <= 0 || k <= 0) return 0.0;
  const unsigned blocks = row_warp_grid(n);
  DeviceBuffer<double> partials(blocks + 1, current_pool(), stream);
  softmax_xent_kernel<<<blocks, kBlock, 0, stream>>>(logits, labels, row_weight, grad, row_loss,
                                                      n, k, grad_scale, partials.data());
  TABPILOT_CUDA_CHECK_LAUNCH();
  return finish_sum(partials, blocks, stream);
}

double mse_cuda(const float* pred, const float* target, float* grad, float* row_loss,
                size_t count, float grad_scale, StreamHandle stream) {
  if (count == 0) return 0.0;
  const unsigned blocks = std::min(grid_for(count), kMaxPartials);
  DeviceBuffer<double> partials(blocks + 1, current_pool(), stream);
  mse_kernel<<<blocks, kBlock, 0, stream>>>(pred, target, grad, row_loss, count, grad_scale,
                                             partials.data());
  TABPILOT_CUDA_CHECK_LAUNCH();
  return finish_sum(partials, blocks, stream);
}

void adamw_step_cuda(float* param, const float* grad, float* m, float* v, size_t count,
                     const AdamConfig& config, int t, StreamHandle stream) {
  if (count == 0) return;
  const float b1 = config.beta1, b2 = config.beta2;
  // The same host-side constants as adamw_step_cpu, bias corrections in double.
  const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), t));
  const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(b2), t));
  const float lr = config.learning_rate;
  const float decay = 1.0f - lr * config.weight_decay;
  adamw_kernel<<<grid_for(count), kBlock, 0, stream>>>(param, grad, m, v, count, b1, b2,
                                                        1.0f - b1, 1.0f - b2, c1, c2, lr,
                                                        config.eps, decay);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

double sum_squared_error_cuda(const float* pred, const float* target, size_t count,
                              StreamHandle stream) {
  return mse_cuda(pred, target, nullptr, nullptr, count, 0.0f, stream);
}

int64_t argmax_correct_cuda(const float* scores, const float* labels, int n, int k,
                            StreamHandle stream) {
  if (n <= 0 || k <= 0) return 0;
  const unsigned blocks = row_warp_grid(n);
  DeviceBuffer<double> partials(blocks + 1, current_pool(), stream);
  argmax_correct_kernel<<<blocks, kBlock, 0, stream>>>(scores, labels, n, k, partials.data());
  TABPILOT_CUDA_CHECK_LAUNCH();
  return static_cast<int64_t>(finish_sum(partials, blocks, stream));
}

}  // namespace tabpilot
