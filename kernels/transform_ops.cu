// CUDA twins of transform_ops_cpu.cpp. One thread per output element, grid-stride loops; the
// arithmetic is written in the same order as the CPU twin so that results match bit for bit
// (except sin/cos, which differ by an ulp or two between libm and CUDA).
#include <math_constants.h>  // for CUDART_NAN_F

#include <algorithm>
#include <cmath>
#include <string>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/kernels/date_parts.h"
#include "tabpilot/kernels/transform_ops_cuda.h"

namespace tabpilot {
namespace {

constexpr unsigned kBlock = 256;
constexpr double kPi = 3.14159265358979323846;

unsigned grid_for(size_t n) {
  const size_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min<size_t>(blocks, size_t{1} << 21));
}

__device__ inline size_t thread_index() {
  return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline size_t thread_count() { return static_cast<size_t>(gridDim.x) * blockDim.x; }

__global__ void impute_scale_kernel(const float* __restrict__ in, size_t rows, float fill,
                                    float center, float inv_scale, float* __restrict__ out,
                                    size_t stride, float* __restrict__ missing_out) {
  for (size_t r = thread_index(); r < rows; r += thread_count()) {
    const float v = in[r];
    const bool missing = isnan(v);
    out[r * stride] = __fmul_rn(__fsub_rn(missing ? fill : v, center), inv_scale);
    if (missing_out) missing_out[r * stride] = missing ? 1.0f : 0.0f;
  }
}

__global__ void one_hot_kernel(const int32_t* __restrict__ codes, size_t rows,
                               const int32_t* __restrict__ code_to_slot, int32_t num_codes,
                               int32_t missing_slot, float* __restrict__ out, size_t stride,
                               int32_t width) {
  const size_t total = rows * static_cast<size_t>(width);
  for (size_t e = thread_index(); e < total; e += thread_count()) {
    const size_t r = e / width;
    const int32_t j = static_cast<int32_t>(e - r * width);
    const int32_t code = codes[r];
    const int32_t slot = code < 0 ? missing_slot : (code < num_codes ? code_to_slot[code] : -1);
    out[r * stride + j] = slot == j ? 1.0f : 0.0f;
  }
}

__global__ void ordinal_kernel(const int32_t* __restrict__ codes, size_t rows,
                               const float* __restrict__ code_to_value, int32_t num_codes,
                               float* __restrict__ out, size_t stride) {
  for (size_t r = thread_index(); r < rows; r += thread_count()) {
    const int32_t code = codes[r];
    out[r * stride] = (code < 0 || code >= num_codes) ? CUDART_NAN_F : code_to_value[code];
  }
}

__global__ void date_part_kernel(const double* __restrict__ epoch_seconds, size_t rows,
                                 DatePart part, float* __restrict__ out, size_t stride) {
  for (size_t r = thread_index(); r < rows; r += thread_count()) {
    const double t = epoch_seconds[r];
    out[r * stride] = isnan(t) ? CUDART_NAN_F : date_part_of(t, part);
  }
}

__global__ void cyclic_encode_kernel(const float* __restrict__ values, size_t rows, float w,
                                     float* __restrict__ out, size_t stride) {
  for (size_t r = thread_index(); r < rows; r += thread_count()) {
    const float v = values[r];
    const bool missing = isnan(v);
    const float x = __fmul_rn(w, v);
    out[r * stride] = missing ? 0.0f : sinf(x);
    out[r * stride + 1] = missing ? 0.0f : cosf(x);
  }
}

// A 32x32 tile: reads 32 consecutive rows of one column per warp, writes 32 consecutive
// columns of one row per warp. The +1 column keeps the transposed reads free of bank conflicts.
constexpr int kTile = 32;
constexpr int kTileRowsPerPass = 8;

__global__ void impute_scale_columns_kernel(const float* const* __restrict__ columns,
                                            size_t rows, int32_t num_columns,
                                            const float* __restrict__ fill,
                                            const float* __restrict__ center,
                                            const float* __restrict__ inv_scale,
                                            float* __restrict__ out, size_t stride) {
  __shared__ float tile[kTile][kTile + 1];
  const size_t row0 = static_cast<size_t>(blockIdx.x) * kTile;
  const int col0 = static_cast<int>(blockIdx.y) * kTile;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int j = ty; j < kTile; j += kTileRowsPerPass) {
    const int c = col0 + j;
    const size_t r = row0 + tx;
    if (c < num_columns && r < rows) {
      const float v = columns[c][r];
      tile[j][tx] = __fmul_rn(__fsub_rn(isnan(v) ? fill[c] : v, center[c]), inv_scale[c]);
    }
  }
  __syncthreads();
  for (int i = ty; i < kTile; i += kTileRowsPerPass) {
    const size_t r = row0 + i;
    const int c = col0 + tx;
    if (c < num_columns && r < rows) out[r * stride + c] = tile[tx][i];
  }
}

}  // namespace

void impute_scale_cuda(const float* in, size_t rows, float fill, float center, float inv_scale,
                       float* out, size_t stride, float* missing_out, StreamHandle stream) {
  if (rows == 0) return;
  impute_scale_kernel<<<grid_for(rows), kBlock, 0, stream>>>(in, rows, fill, center, inv_scale,
                                                              out, stride, missing_out);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void one_hot_cuda(const int32_t* codes, size_t rows, const int32_t* code_to_slot,
                  int32_t num_codes, int32_t missing_slot, float* out, size_t stride,
                  int32_t width, StreamHandle stream) {
  if (rows == 0 || width <= 0) return;
  one_hot_kernel<<<grid_for(rows * width), kBlock, 0, stream>>>(
      codes, rows, code_to_slot, num_codes, missing_slot, out, stride, width);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void ordinal_cuda(const int32_t* codes, size_t rows, const float* code_to_value,
                  int32_t num_codes, float* out, size_t stride, StreamHandle stream) {
  if (rows == 0) return;
  ordinal_kernel<<<grid_for(rows), kBlock, 0, stream>>>(codes, rows, code_to_value, num_codes,
                                                         out, stride);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void date_part_cuda(const double* epoch_seconds, size_t rows, DatePart part, float* out,
                    size_t stride, StreamHandle stream) {
  if (rows == 0) return;
  date_part_kernel<<<grid_for(rows), kBlock, 0, stream>>>(epoch_seconds, rows, part, out,
                                                           stride);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void cyclic_encode_cuda(const float* values, size_t rows, float period, float* out,
                        size_t stride, StreamHandle stream) {
  if (rows == 0) return;
  const float w = 2.0f * static_cast<float>(kPi) / period;  // as the CPU twin computes it
  cyclic_encode_kernel<<<grid_for(rows), kBlock, 0, stream>>>(values, rows, w, out, stride);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

void impute_scale_columns_cuda(const float* const* columns, size_t rows, int32_t num_columns,
                               const float* fill, const float* center, const float* inv_scale,
                               float* out, size_t stride, StreamHandle stream) {
  if (rows == 0 || num_columns <= 0) return;
  const size_t row_tiles = (rows + kTile - 1) / kTile;
  if (row_tiles > 0x7fffffffu)
    throw InputError("impute_scale_columns_cuda: " + std::to_string(rows) +
                     " rows is more than one launch covers; split the table into chunks");
  const dim3 grid(static_cast<unsigned>(row_tiles),
                  static_cast<unsigned>((num_columns + kTile - 1) / kTile));
  const dim3 block(kTile, kTileRowsPerPass);
  impute_scale_columns_kernel<<<grid, block, 0, stream>>>(columns, rows, num_columns, fill,
                                                           center, inv_scale, out, stride);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

}  // namespace tabpilot
