// Internal: the tile configurations of impute_scale_columns_cuda, selectable by index so that the
// benchmark can compare them in one GPU run and the tests can check each against the CPU twin.
// Not public API. C++17, no CUDA headers; without CUDA the launcher throws UnavailableError.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tabpilot/cuda/stream.h"

namespace tabpilot {

// One tile configuration. Tiles are tile_rows x 32 columns, 256 threads per block; min_blocks is
// the __launch_bounds__ blocks-per-SM target (it caps registers at 65536 / (256 * min_blocks)).
// Each block takes `chunk` consecutive tiles (column tiles vary fastest), issuing the loads of
// the next tile before storing the current one; chunk 0 means one whole row band (all column
// tiles of tile_rows rows), so that one block writes complete output rows.
struct ImputeScaleTileConfig {
  int tile_rows;   // 64, 128 or 256
  int min_blocks;  // blocks per SM for __launch_bounds__
  int chunk;       // tiles per block; 0 = column tiles per row band, k < 0 = -k row bands
  const char* name;
};

// H200 sweep 1 (10M x 100, bench/results/2026-11-26-h200-run3): 128 rows at 4 blocks/SM
// reached 67.5% of peak, ahead of 6 and 8 blocks/SM (58%, 51%), 64 or 256 rows, and the
// row-band variants (44-52%). Sweep 2 (below, bench/results/2026-11-26-h200-run4): 64 rows
// at 6 blocks/SM 71.6%, 256 rows at 2 blocks/SM 71.0%, 128 rows at 2-3 blocks/SM 69.4%.
inline constexpr ImputeScaleTileConfig kImputeScaleTileConfigs[] = {
    {128, 4, 1, "r128_b4_c1"},  // 0: best of sweep 1
    {128, 3, 1, "r128_b3_c1"},  // 1
    {128, 2, 1, "r128_b2_c1"},  // 2
    {64, 4, 1, "r64_b4_c1"},    // 3
    {64, 6, 1, "r64_b6_c1"},    // 4
    {128, 4, 2, "r128_b4_c2"},  // 5: two tiles per block, pipelined
    {128, 5, 1, "r128_b5_c1"},  // 6
    {256, 2, 1, "r256_b2_c1"},  // 7
    {128, 4, 4, "r128_b4_c4"},  // 8: four tiles per block, pipelined
};
inline constexpr int kImputeScaleVariantCount =
    static_cast<int>(sizeof(kImputeScaleTileConfigs) / sizeof(kImputeScaleTileConfigs[0]));

// The variant impute_scale_columns_cuda uses.
inline constexpr int kImputeScaleDefaultVariant = 4;  // r64_b6_c1: 71.6% of peak in sweep 2

// impute_scale_columns_cuda with tile configuration kImputeScaleTileConfigs[variant]; same
// arguments and results. Throws InputError for a variant outside [0, kImputeScaleVariantCount).
void impute_scale_columns_cuda_variant(int variant, const float* const* columns, size_t rows,
                                       int32_t num_columns, const float* fill,
                                       const float* center, const float* inv_scale, float* out,
                                       size_t stride, StreamHandle stream);

}  // namespace tabpilot
