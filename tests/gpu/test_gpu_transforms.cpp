// Every transform kernel against its CPU twin on random inputs: encodings and arithmetic must be
// bit-identical; sin/cos may differ by an ulp or two (tolerance 2e-6 absolute on [-1, 1]).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "tabpilot/common/error.h"
#include "tabpilot/kernels/transform_ops.h"
#include "tabpilot/kernels/transform_ops_cuda.h"
#include "tabpilot/kernels/transform_ops_variants.h"

namespace tabpilot {
namespace {

using testing::expect_bitwise_equal;
using testing::gpu0;
using testing::random_floats;
using testing::upload;

constexpr size_t kRows = 10007;  // not a multiple of any block size

TEST(GpuTransforms, ImputeScaleMatchesCpuWithStrideAndMissingColumn) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(1);
  const auto in = random_floats(kRows, rng, -1e3f, 1e3f, 0.2);
  const size_t stride = 5;  // write column 1, indicator in column 3
  std::vector<float> cpu(kRows * stride, -7.0f);
  impute_scale_cpu(in.data(), kRows, 0.25f, 3.5f, 1.0f / 17.0f, cpu.data() + 1, stride,
                   cpu.data() + 3);
  auto d_in = upload(in, s);
  auto d_out = upload(std::vector<float>(kRows * stride, -7.0f), s);
  impute_scale_cuda(d_in.data(), kRows, 0.25f, 3.5f, 1.0f / 17.0f, d_out.data() + 1, stride,
                    d_out.data() + 3, s.handle());
  expect_bitwise_equal(d_out.to_host(), cpu, "impute_scale");  // untouched columns stay -7
}

TEST(GpuTransforms, ImputeScaleColumnsEqualsOneCpuCallPerColumn) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(2);
  const int cols = 45;  // spans two 32-column tiles, the second partial
  const size_t rows = 1000 + 7, stride = 50;
  std::vector<DeviceBuffer<float>> d_cols;
  std::vector<const float*> ptrs;
  std::vector<float> fill(cols), center(cols), inv(cols);
  std::vector<float> cpu(rows * stride, 0.0f);
  for (int c = 0; c < cols; ++c) {
    const auto col = random_floats(rows, rng, -50.0f, 50.0f, 0.1);
    fill[c] = c * 0.5f;
    center[c] = c - 20.0f;
    inv[c] = 1.0f / (1.0f + c);
    impute_scale_cpu(col.data(), rows, fill[c], center[c], inv[c], cpu.data() + c, stride,
                     nullptr);
    d_cols.push_back(upload(col, s));
    ptrs.push_back(d_cols.back().data());
  }
  auto d_ptrs = DeviceBuffer<const float*>::from_host(ptrs, gpu0(), s.handle());
  auto d_fill = upload(fill, s), d_center = upload(center, s), d_inv = upload(inv, s);
  auto d_out = upload(std::vector<float>(rows * stride, 0.0f), s);
  impute_scale_columns_cuda(d_ptrs.data(), rows, cols, d_fill.data(), d_center.data(),
                            d_inv.data(), d_out.data(), stride, s.handle());
  expect_bitwise_equal(d_out.to_host(), cpu, "impute_scale_columns");
}

// Runs impute_scale_columns_cuda on `cols` columns laid out in one device buffer, column c at
// c * (rows + 8) + col_offset[c] floats (an offset not divisible by 4 gives an unaligned column
// pointer), writing at out + out_offset with `stride`; compares every output float, including
// the untouched ones (sentinel -7), with one impute_scale_cpu call per column. variant < 0 runs
// the public function, otherwise impute_scale_columns_cuda_variant(variant, ...).
void check_impute_scale_columns(size_t rows, int cols, size_t stride, size_t out_offset,
                                const std::vector<size_t>& col_offset, uint32_t seed,
                                int variant = -1) {
  Stream s(gpu0());
  std::mt19937 rng(seed);
  const size_t pitch = rows + 8;
  std::vector<float> host(pitch * cols, 0.0f);
  std::vector<float> fill(cols), center(cols), inv(cols);
  std::vector<float> cpu(out_offset + rows * stride, -7.0f);
  for (int c = 0; c < cols; ++c) {
    auto col = random_floats(rows, rng, -50.0f, 50.0f, 0.1);
    // Values whose scaled results are subnormal, signed zero and infinity: no flush to zero,
    // no contraction into an FMA on either side.
    if (rows > 3) {
      col[0] = 1e-39f;
      col[1] = -0.0f;
      col[2] = INFINITY;
    }
    fill[c] = c * 0.5f;
    center[c] = c % 3 == 0 ? 0.0f : c - 20.0f;
    inv[c] = c % 5 == 0 ? 0.03125f : 1.0f / (3.0f + c);
    std::copy(col.begin(), col.end(), host.begin() + c * pitch + col_offset[c]);
    impute_scale_cpu(col.data(), rows, fill[c], center[c], inv[c], cpu.data() + out_offset + c,
                     stride, nullptr);
  }
  auto d_cols = upload(host, s);
  std::vector<const float*> ptrs(cols);
  for (int c = 0; c < cols; ++c) ptrs[c] = d_cols.data() + c * pitch + col_offset[c];
  auto d_ptrs = DeviceBuffer<const float*>::from_host(ptrs, gpu0(), s.handle());
  auto d_fill = upload(fill, s), d_center = upload(center, s), d_inv = upload(inv, s);
  auto d_out = upload(std::vector<float>(cpu.size(), -7.0f), s);
  if (variant < 0)
    impute_scale_columns_cuda(d_ptrs.data(), rows, cols, d_fill.data(), d_center.data(),
                              d_inv.data(), d_out.data() + out_offset, stride, s.handle());
  else
    impute_scale_columns_cuda_variant(variant, d_ptrs.data(), rows, cols, d_fill.data(),
                                      d_center.data(), d_inv.data(), d_out.data() + out_offset,
                                      stride, s.handle());
  const auto gpu = d_out.to_host();
  expect_bitwise_equal(gpu, cpu, "impute_scale_columns");
  // Hand-computed: column 0 has fill 0, center 0 and inv_scale 1/32, so row 3 is exactly x / 32
  // (0 when x is missing).
  if (rows > 3) {
    const float x = host[col_offset[0] + 3];
    EXPECT_EQ(gpu[out_offset + 3 * stride], std::isnan(x) ? 0.0f : x / 32.0f);
  }
}

// 16-byte aligned columns, output and stride: the 128-bit load and store path. Rows are not a
// multiple of 4 or of the 128-row tile; 45 columns leave a partial 32-column tile and a
// partial quad (44..44); stride 48 > 45 leaves untouched columns that must stay -7.
TEST(GpuTransforms, ImputeScaleColumnsVectorPathMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  check_impute_scale_columns(3 * 128 + 7, 45, 48, 0, std::vector<size_t>(45, 0), 11);
  check_impute_scale_columns(128, 32, 32, 4, std::vector<size_t>(32, 0), 12);  // exact tiles
  check_impute_scale_columns(3, 6, 8, 0, std::vector<size_t>(6, 0), 13);       // < one quad
}

// Unaligned column pointers (offsets 1..3 floats) take the scalar loads, column by column,
// while aligned neighbours keep the 128-bit loads; the output path stays vectorized.
TEST(GpuTransforms, ImputeScaleColumnsUnalignedColumnsMatchCpu) {
  TABPILOT_REQUIRE_GPU();
  std::vector<size_t> offsets(37);
  for (size_t c = 0; c < offsets.size(); ++c) offsets[c] = c % 4;
  check_impute_scale_columns(2 * 128 + 61, 37, 40, 0, offsets, 14);
}

// An unaligned output pointer or a stride that is not a multiple of 4 takes the scalar stores.
TEST(GpuTransforms, ImputeScaleColumnsUnalignedOutputMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  check_impute_scale_columns(1000 + 7, 33, 40, 1, std::vector<size_t>(33, 0), 15);
  std::vector<size_t> offsets(45);
  for (size_t c = 0; c < offsets.size(); ++c) offsets[c] = (c * 3) % 4;
  check_impute_scale_columns(517, 45, 47, 0, offsets, 16);
}

// Every tile configuration (tile rows 64..256, pipelined chunks of tiles) on shapes that are
// partial in every direction: 999 and 1825 rows are not multiples of 32, so every tile height
// leaves a partial last tile, and 1825 rows (29 bands of 64) leave the four-band chunk partial;
// 45 columns, stride 48 take the 128-bit stores; unaligned columns take scalar loads and
// stride 47 at out + 1 scalar stores.
TEST(GpuTransforms, ImputeScaleColumnsEveryVariantMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  std::vector<size_t> offsets(45);
  for (size_t c = 0; c < offsets.size(); ++c) offsets[c] = (c * 3) % 4;
  for (int v = 0; v < kImputeScaleVariantCount; ++v) {
    SCOPED_TRACE(kImputeScaleTileConfigs[v].name);
    check_impute_scale_columns(999, 45, 48, 0, std::vector<size_t>(45, 0), 20 + v, v);
    check_impute_scale_columns(7 * 256 + 33, 45, 48, 4, offsets, 40 + v, v);
    check_impute_scale_columns(517, 45, 47, 1, offsets, 60 + v, v);
    check_impute_scale_columns(3, 6, 8, 0, std::vector<size_t>(6, 0), 80 + v, v);
  }
}

TEST(GpuTransforms, ImputeScaleColumnsVariantOutOfRangeThrows) {
  TABPILOT_REQUIRE_GPU();
  EXPECT_THROW(impute_scale_columns_cuda_variant(kImputeScaleVariantCount, nullptr, 0, 0, nullptr,
                                                 nullptr, nullptr, nullptr, 1, nullptr),
               InputError);
  EXPECT_THROW(impute_scale_columns_cuda_variant(-1, nullptr, 0, 0, nullptr, nullptr, nullptr,
                                                 nullptr, 1, nullptr),
               InputError);
}

TEST(GpuTransforms, OneHotMatchesCpuIncludingMissingAndUnknownCodes) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(3);
  const int32_t num_codes = 9, width = 6, missing_slot = 5;
  // Codes 6..8 have no slot (rare categories); 9..11 are beyond the dictionary.
  const std::vector<int32_t> code_to_slot = {0, 1, 2, 3, 4, 2, -1, -1, -1};
  std::uniform_int_distribution<int32_t> code(-2, 11);
  std::vector<int32_t> codes(kRows);
  for (auto& c : codes) c = code(rng);
  const size_t stride = width + 2;
  std::vector<float> cpu(kRows * stride, 9.0f);
  one_hot_cpu(codes.data(), kRows, code_to_slot.data(), num_codes, missing_slot, cpu.data() + 1,
              stride, width);
  auto d_codes = upload(codes, s), d_map = upload(code_to_slot, s);
  auto d_out = upload(std::vector<float>(kRows * stride, 9.0f), s);
  one_hot_cuda(d_codes.data(), kRows, d_map.data(), num_codes, missing_slot, d_out.data() + 1,
               stride, width, s.handle());
  const auto gpu = d_out.to_host();
  expect_bitwise_equal(gpu, cpu, "one_hot");
  // Independent check on a missing row: exactly one 1, in the missing slot.
  for (size_t r = 0; r < kRows; ++r)
    if (codes[r] < 0) {
      EXPECT_EQ(gpu[r * stride + 1 + missing_slot], 1.0f);
      break;
    }
}

// 16-byte aligned output rows take the 128-bit store path: widths that are a multiple of 4, one
// that leaves a partial last quad (6, 5), and width 1; stride > width leaves columns untouched.
TEST(GpuTransforms, OneHotVectorPathMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(7);
  const std::vector<int32_t> code_to_slot = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, -1};
  std::uniform_int_distribution<int32_t> code(-1, 17);
  const size_t rows = 2053;
  std::vector<int32_t> codes(rows);
  for (auto& c : codes) c = code(rng);
  auto d_codes = upload(codes, s), d_map = upload(code_to_slot, s);
  struct Case {
    int32_t width;
    size_t stride, offset;
  };
  for (const Case k : {Case{16, 16, 0}, Case{6, 8, 0}, Case{5, 12, 4}, Case{1, 4, 0},
                       Case{8, 9, 0} /* stride % 4 != 0: scalar */}) {
    const int32_t missing_slot = k.width - 1;
    std::vector<float> cpu(k.offset + rows * k.stride, 9.0f);
    one_hot_cpu(codes.data(), rows, code_to_slot.data(), 16, missing_slot, cpu.data() + k.offset,
                k.stride, k.width);
    auto d_out = upload(std::vector<float>(cpu.size(), 9.0f), s);
    one_hot_cuda(d_codes.data(), rows, d_map.data(), 16, missing_slot, d_out.data() + k.offset,
                 k.stride, k.width, s.handle());
    const auto gpu = d_out.to_host();
    expect_bitwise_equal(gpu, cpu, "one_hot");
    // Independent: each row sums to 1 exactly when its code has a slot inside the width.
    for (size_t r = 0; r < rows; ++r) {
      const int32_t c = codes[r];
      const int32_t slot = c < 0 ? missing_slot : (c < 16 ? code_to_slot[c] : -1);
      float sum = 0.0f;
      for (int32_t j = 0; j < k.width; ++j) sum += gpu[k.offset + r * k.stride + j];
      ASSERT_EQ(sum, slot >= 0 && slot < k.width ? 1.0f : 0.0f)
          << "width " << k.width << " row " << r;
    }
  }
}

TEST(GpuTransforms, OrdinalMatchesCpu) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(4);
  std::vector<float> values = {3.0f, 1.0f, 2.0f, 0.5f, -4.0f};
  std::uniform_int_distribution<int32_t> code(-1, 6);
  std::vector<int32_t> codes(kRows);
  for (auto& c : codes) c = code(rng);
  std::vector<float> cpu(kRows * 3, 0.0f);
  ordinal_cpu(codes.data(), kRows, values.data(), 5, cpu.data() + 2, 3);
  auto d_codes = upload(codes, s);
  auto d_values = upload(values, s);
  auto d_out = upload(std::vector<float>(kRows * 3, 0.0f), s);
  ordinal_cuda(d_codes.data(), kRows, d_values.data(), 5, d_out.data() + 2, 3, s.handle());
  expect_bitwise_equal(d_out.to_host(), cpu, "ordinal");
}

TEST(GpuTransforms, DatePartMatchesCpuForEveryPart) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(5);
  // Years ~1600..2400, before and after the epoch, with fractional seconds, NaN and the
  // day boundaries around 1970-01-01 and 2000-02-29.
  std::uniform_real_distribution<double> t(-1.17e10, 1.36e10);
  std::vector<double> secs(kRows);
  for (auto& x : secs) x = t(rng);
  secs[0] = NAN;
  secs[1] = 0.0;
  secs[2] = -0.5;
  secs[3] = -86400.0;
  secs[4] = 951782400.0;  // 2000-02-29 00:00:00
  secs[5] = 951868799.9;
  auto d_secs = upload(secs, s);
  for (int p = 0; p <= static_cast<int>(DatePart::kSecond); ++p) {
    const auto part = static_cast<DatePart>(p);
    std::vector<float> cpu(kRows);
    date_part_cpu(secs.data(), kRows, part, cpu.data(), 1);
    DeviceBuffer<float> d_out(kRows, gpu0(), s.handle());
    date_part_cuda(d_secs.data(), kRows, part, d_out.data(), 1, s.handle());
    const auto gpu = d_out.to_host();
    expect_bitwise_equal(gpu, cpu, "date_part");
    if (part == DatePart::kYearDay) EXPECT_EQ(gpu[4], 60.0f);  // Feb 29 is day 60
  }
}

TEST(GpuTransforms, CyclicEncodeMatchesCpuWithinUlps) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  std::mt19937 rng(6);
  const auto values = random_floats(kRows, rng, 0.0f, 366.0f, 0.05);
  std::vector<float> cpu(kRows * 4, 3.0f);
  cyclic_encode_cpu(values.data(), kRows, 7.0f, cpu.data() + 1, 4);
  auto d_values = upload(values, s);
  auto d_out = upload(std::vector<float>(kRows * 4, 3.0f), s);
  cyclic_encode_cuda(d_values.data(), kRows, 7.0f, d_out.data() + 1, 4, s.handle());
  const auto gpu = d_out.to_host();
  testing::expect_near_all(gpu, cpu, 2e-6, 0.0, "cyclic_encode");
  for (size_t r = 0; r < kRows; ++r)  // an independent identity: sin^2 + cos^2 = 1
    if (!std::isnan(values[r])) {
      const double a = gpu[r * 4 + 1], b = gpu[r * 4 + 2];
      ASSERT_NEAR(a * a + b * b, 1.0, 1e-6) << r;
    }
}

TEST(GpuTransforms, ZeroRowsIsANoOp) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  impute_scale_cuda(nullptr, 0, 0, 0, 1, nullptr, 1, nullptr, s.handle());
  one_hot_cuda(nullptr, 0, nullptr, 0, -1, nullptr, 1, 3, s.handle());
  date_part_cuda(nullptr, 0, DatePart::kYear, nullptr, 1, s.handle());
  s.synchronize();
}

}  // namespace
}  // namespace tabpilot
