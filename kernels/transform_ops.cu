// CUDA twins of transform_ops_cpu.cpp. Grid-stride loops, one thread per output element or
// per 16-byte output piece; impute_scale_columns is a tiled transpose. The arithmetic is written
// in the same order as the CPU twin so that results match bit for bit (except sin/cos, which
// differ by an ulp or two between libm and CUDA).
#include <math_constants.h>  // for CUDART_NAN_F

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "tabpilot/kernels/grid.cuh"
#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/kernels/date_parts.h"
#include "tabpilot/kernels/transform_ops_cuda.h"
#include "tabpilot/kernels/transform_ops_variants.h"

namespace tabpilot {
namespace {

using grid::kBlock;
using grid::grid_for;
using grid::thread_count;
using grid::thread_index;
using grid::warp_max;
using grid::warp_sum;
constexpr double kPi = 3.14159265358979323846;

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

// One thread per 4-float quad of an output row, so that consecutive threads write consecutive
// 16-byte pieces of the output (coalesced, full 32-byte sectors) and no thread divides by
// `width` per element. kVec: out is 16-byte aligned and stride % 4 == 0, so each full quad is one
// 128-bit store; the last quad of a row (width % 4 != 0) and the !kVec path use scalar stores.
// Index is uint32_t when rows * quads is small enough, as 64-bit division costs several times more.
template <bool kVec, typename Index>
__global__ void one_hot_kernel(const int32_t* __restrict__ codes, Index rows,
                               const int32_t* __restrict__ code_to_slot, int32_t num_codes,
                               int32_t missing_slot, float* __restrict__ out, size_t stride,
                               int32_t width, Index quads_per_row) {
  const Index total = rows * quads_per_row;
  const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index e = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    const Index r = e / quads_per_row;
    const int32_t j0 = static_cast<int32_t>(e - r * quads_per_row) * 4;
    const int32_t code = __ldg(codes + r);
    const int32_t slot =
        code < 0 ? missing_slot : (code < num_codes ? __ldg(code_to_slot + code) : -1);
    float* dst = out + static_cast<size_t>(r) * stride + j0;
    const float4 v = make_float4(slot == j0 ? 1.0f : 0.0f, slot == j0 + 1 ? 1.0f : 0.0f,
                                 slot == j0 + 2 ? 1.0f : 0.0f, slot == j0 + 3 ? 1.0f : 0.0f);
    if (kVec && j0 + 4 <= width) {
      *reinterpret_cast<float4*>(dst) = v;
    } else {
      const int32_t n = min(4, width - j0);
      dst[0] = v.x;
      if (n > 1) dst[1] = v.y;
      if (n > 2) dst[2] = v.z;
      if (n > 3) dst[3] = v.w;
    }
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

// impute_scale_columns: a transpose through shared memory in tiles of kRows rows x 32 columns,
// 256 threads per block (kImputeScaleTileConfigs in transform_ops_variants.h lists the tried
// configurations). kMinBlocks blocks per SM keep kRows * 128 B * kMinBlocks of loads in flight
// per SM, which HBM3e needs to approach its peak.
// Load: each column's kRows rows are read by 8 threads as kRows / 32 128-bit loads each, all
// issued before any is used, a warp reading four 128-byte segments per instruction. Store
// (kVecOut): each output row's 32 floats are written by 8 threads as 128-bit stores, a warp
// writing four 128-byte row pieces per instruction. Column tiles vary fastest over the tile
// index so that the tiles that share an output row (and its partly covered 32-byte sectors) run
// together and the L2 merges their writes before eviction instead of reading the sector back
// from DRAM. A block takes `chunk` consecutive tiles and issues the loads of the next tile
// before storing the current one, so that reads and writes overlap within the block.
// Shared memory is [row][col] with the 4-float quad of column c at quad (c/4) ^ ((row/4) % 8):
// the transposed writes of the load phase then hit 32 distinct banks and the 128-bit reads of
// the store phase stay aligned and conflict-free, without padding.
constexpr int kTileCols = 32;
constexpr int kTileThreads = 256;
constexpr int kRowQuadsPerPass = kTileThreads / kTileCols;  // 8 quads = 32 rows per pass

__device__ __forceinline__ int swizzled(int row, int col) {
  return row * kTileCols + 4 * ((col >> 2) ^ ((row >> 2) & 7)) + (col & 3);
}

// Same float operations in the same order as impute_scale_cpu; the _rn intrinsics keep nvcc from
// contracting into an FMA.
__device__ __forceinline__ float impute_scale_one(float v, float fill, float center, float inv) {
  return __fmul_rn(__fsub_rn(isnan(v) ? fill : v, center), inv);
}

// One thread's share of one tile column, loaded but not yet transformed: held in registers while
// the previous tile is stored.
template <int kRows>
struct ColumnSlice {
  static constexpr int kPasses = kRows / (4 * kRowQuadsPerPass);
  float4 v[kPasses];
  float fill, center, inv;
  bool active;
};

struct TileArgs {
  const float* const* columns;
  size_t rows;
  int32_t num_columns;
  uint32_t col_tiles;
  const float* fill;
  const float* center;
  const float* inv_scale;
  float* out;
  size_t stride;
};

template <int kRows>
__device__ __forceinline__ void load_slice(const TileArgs& a, size_t tile_id,
                                           ColumnSlice<kRows>& s) {
  const int t = static_cast<int>(threadIdx.x);
  const size_t row0 = (tile_id / a.col_tiles) * kRows;
  const int c = static_cast<int>(tile_id % a.col_tiles) * kTileCols + t / kRowQuadsPerPass;
  const int q = t % kRowQuadsPerPass;
  s.active = c < a.num_columns;
  if (!s.active) return;
  const float* col = a.columns[c];
  s.fill = __ldg(a.fill + c);
  s.center = __ldg(a.center + c);
  s.inv = __ldg(a.inv_scale + c);
  // Column pointers are device data, so alignment is checked here, per column.
  const bool vec_in = (reinterpret_cast<uintptr_t>(col) & 15) == 0;
#pragma unroll
  for (int h = 0; h < ColumnSlice<kRows>::kPasses; ++h) {  // all loads first: bytes in flight
    const size_t r = row0 + h * 4 * kRowQuadsPerPass + 4 * q;
    if (vec_in && r + 4 <= a.rows) {
      s.v[h] = __ldg(reinterpret_cast<const float4*>(col + r));
    } else {
      s.v[h].x = r < a.rows ? __ldg(col + r) : 0.0f;
      s.v[h].y = r + 1 < a.rows ? __ldg(col + r + 1) : 0.0f;
      s.v[h].z = r + 2 < a.rows ? __ldg(col + r + 2) : 0.0f;
      s.v[h].w = r + 3 < a.rows ? __ldg(col + r + 3) : 0.0f;
    }
  }
}

template <int kRows>
__device__ __forceinline__ void transpose_slice(const ColumnSlice<kRows>& s, float* tile) {
  if (!s.active) return;
  const int t = static_cast<int>(threadIdx.x);
  const int j = t / kRowQuadsPerPass, q = t % kRowQuadsPerPass;
#pragma unroll
  for (int h = 0; h < ColumnSlice<kRows>::kPasses; ++h) {
    const int row = h * 4 * kRowQuadsPerPass + 4 * q;
    tile[swizzled(row, j)] = impute_scale_one(s.v[h].x, s.fill, s.center, s.inv);
    tile[swizzled(row + 1, j)] = impute_scale_one(s.v[h].y, s.fill, s.center, s.inv);
    tile[swizzled(row + 2, j)] = impute_scale_one(s.v[h].z, s.fill, s.center, s.inv);
    tile[swizzled(row + 3, j)] = impute_scale_one(s.v[h].w, s.fill, s.center, s.inv);
  }
}

template <int kRows, bool kVecOut>
__device__ __forceinline__ void store_tile(const TileArgs& a, size_t tile_id, const float* tile) {
  const int t = static_cast<int>(threadIdx.x);
  const size_t row0 = (tile_id / a.col_tiles) * kRows;
  const int col0 = static_cast<int>(tile_id % a.col_tiles) * kTileCols;
  if constexpr (kVecOut) {  // 8 threads per output row, one 128-bit store each
    constexpr int kRowsPerPass = kTileThreads / (kTileCols / 4);
    const int p = t % (kTileCols / 4);
    const int c = col0 + 4 * p;
#pragma unroll
    for (int i = 0; i < kRows / kRowsPerPass; ++i) {
      const int row = t / (kTileCols / 4) + i * kRowsPerPass;
      const size_t r = row0 + row;
      if (r >= a.rows || c >= a.num_columns) continue;
      const float4 v = *reinterpret_cast<const float4*>(&tile[swizzled(row, 4 * p)]);
      float* dst = a.out + r * a.stride + c;
      if (c + 4 <= a.num_columns) {
        *reinterpret_cast<float4*>(dst) = v;
      } else {
        dst[0] = v.x;
        if (c + 1 < a.num_columns) dst[1] = v.y;
        if (c + 2 < a.num_columns) dst[2] = v.z;
      }
    }
  } else {  // out or stride not 16-byte aligned: a warp writes one row's 32 floats
    constexpr int kRowsPerPass = kTileThreads / kTileCols;
    const int cl = t % kTileCols;
    const int c = col0 + cl;
#pragma unroll
    for (int i = 0; i < kRows / kRowsPerPass; ++i) {
      const int row = t / kTileCols + i * kRowsPerPass;
      const size_t r = row0 + row;
      if (r < a.rows && c < a.num_columns) a.out[r * a.stride + c] = tile[swizzled(row, cl)];
    }
  }
}

template <int kRows, int kMinBlocks, bool kVecOut>
__global__ void __launch_bounds__(kTileThreads, kMinBlocks)
    impute_scale_columns_kernel(TileArgs a, size_t num_tiles, size_t chunk) {
  static_assert(kRows % (4 * kRowQuadsPerPass) == 0, "tile rows must be a multiple of 32");
  __shared__ __align__(16) float tile[kRows * kTileCols];
  const size_t num_chunks = (num_tiles + chunk - 1) / chunk;
  for (size_t k = blockIdx.x; k < num_chunks; k += gridDim.x) {
    size_t tile_id = k * chunk;
    const size_t end = min(tile_id + chunk, num_tiles);
    ColumnSlice<kRows> s;
    load_slice<kRows>(a, tile_id, s);
    for (; tile_id < end; ++tile_id) {
      transpose_slice<kRows>(s, tile);
      __syncthreads();
      if (tile_id + 1 < end) load_slice<kRows>(a, tile_id + 1, s);  // in flight while storing
      store_tile<kRows, kVecOut>(a, tile_id, tile);
      __syncthreads();  // the next tile overwrites shared memory
    }
  }
}

template <int kVariant>
void launch_impute_scale_columns(const TileArgs& a, StreamHandle stream) {
  constexpr ImputeScaleTileConfig kCfg = kImputeScaleTileConfigs[kVariant];
  const size_t row_tiles = (a.rows + kCfg.tile_rows - 1) / kCfg.tile_rows;
  const size_t num_tiles = row_tiles * a.col_tiles;
  const size_t bands = kCfg.chunk == 0 ? 1 : static_cast<size_t>(-kCfg.chunk);
  const size_t chunk = kCfg.chunk > 0 ? static_cast<size_t>(kCfg.chunk) : bands * a.col_tiles;
  // One chunk per block up to 2^21 blocks (10M x 100 is 625k tiles at 128 rows); beyond, blocks
  // loop.
  const size_t num_chunks = (num_tiles + chunk - 1) / chunk;
  const auto grid = static_cast<unsigned>(std::min<size_t>(num_chunks, size_t{1} << 21));
  const bool vec_out = (reinterpret_cast<uintptr_t>(a.out) & 15) == 0 && a.stride % 4 == 0;
  if (vec_out)
    impute_scale_columns_kernel<kCfg.tile_rows, kCfg.min_blocks, true>
        <<<grid, kTileThreads, 0, stream>>>(a, num_tiles, chunk);
  else
    impute_scale_columns_kernel<kCfg.tile_rows, kCfg.min_blocks, false>
        <<<grid, kTileThreads, 0, stream>>>(a, num_tiles, chunk);
  TABPILOT_CUDA_CHECK_LAUNCH();
}

using ImputeScaleLauncher = void (*)(const TileArgs&, StreamHandle);

template <size_t... kIds>
constexpr auto make_launchers(std::index_sequence<kIds...>) {
  return std::array<ImputeScaleLauncher, sizeof...(kIds)>{
      &launch_impute_scale_columns<static_cast<int>(kIds)>...};
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
  const size_t quads = (static_cast<size_t>(width) + 3) / 4;
  const bool vec = (reinterpret_cast<uintptr_t>(out) & 15) == 0 && stride % 4 == 0;
  const unsigned grid = grid_for(rows * quads);
  if (rows * quads < (size_t{1} << 31)) {  // so that e + step cannot wrap in 32 bits
    const auto r32 = static_cast<uint32_t>(rows), q32 = static_cast<uint32_t>(quads);
    if (vec)
      one_hot_kernel<true, uint32_t><<<grid, kBlock, 0, stream>>>(
          codes, r32, code_to_slot, num_codes, missing_slot, out, stride, width, q32);
    else
      one_hot_kernel<false, uint32_t><<<grid, kBlock, 0, stream>>>(
          codes, r32, code_to_slot, num_codes, missing_slot, out, stride, width, q32);
  } else if (vec) {
    one_hot_kernel<true, size_t><<<grid, kBlock, 0, stream>>>(
        codes, rows, code_to_slot, num_codes, missing_slot, out, stride, width, quads);
  } else {
    one_hot_kernel<false, size_t><<<grid, kBlock, 0, stream>>>(
        codes, rows, code_to_slot, num_codes, missing_slot, out, stride, width, quads);
  }
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

void impute_scale_columns_cuda_variant(int variant, const float* const* columns, size_t rows,
                                       int32_t num_columns, const float* fill,
                                       const float* center, const float* inv_scale, float* out,
                                       size_t stride, StreamHandle stream) {
  static constexpr auto kLaunchers =
      make_launchers(std::make_index_sequence<kImputeScaleVariantCount>{});
  if (variant < 0 || variant >= kImputeScaleVariantCount)
    throw InputError("impute_scale_columns_cuda_variant: variant " + std::to_string(variant) +
                     " is not in [0, " + std::to_string(kImputeScaleVariantCount) +
                     "); see kImputeScaleTileConfigs in kernels/transform_ops_variants.h");
  if (rows == 0 || num_columns <= 0) return;
  const auto col_tiles = static_cast<uint32_t>((num_columns + kTileCols - 1) / kTileCols);
  const TileArgs a{columns, rows, num_columns, col_tiles, fill, center, inv_scale, out, stride};
  kLaunchers[variant](a, stream);
}

void impute_scale_columns_cuda(const float* const* columns, size_t rows, int32_t num_columns,
                               const float* fill, const float* center, const float* inv_scale,
                               float* out, size_t stride, StreamHandle stream) {
  impute_scale_columns_cuda_variant(kImputeScaleDefaultVariant, columns, rows, num_columns, fill,
                                    center, inv_scale, out, stride, stream);
}

}  // namespace tabpilot
