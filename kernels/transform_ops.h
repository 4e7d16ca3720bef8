// Feature-transform kernels: the CPU twins of the CUDA transform kernels. Each writes one
// input column into an output matrix column (row-major, `stride` floats between rows), so a
// transform is a sequence of these calls over the columns of a table.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tabpilot {

// out[r*stride] = ((isnan(in[r]) ? fill : in[r]) - center) * inv_scale, and, when
// missing_out is not null, missing_out[r*stride] = isnan(in[r]) ? 1 : 0.
void impute_scale_cpu(const float* in, size_t rows, float fill, float center, float inv_scale,
                      float* out, size_t stride, float* missing_out);

// One-hot: slot = code_to_slot[code] for code in [0, num_codes), -1 = no slot (all zero);
// missing codes (< 0) map to missing_slot (-1 = all zero). Writes `width` columns at out.
void one_hot_cpu(const int32_t* codes, size_t rows, const int32_t* code_to_slot,
                 int32_t num_codes, int32_t missing_slot, float* out, size_t stride,
                 int32_t width);

// Ordinal: out = code_to_value[code]; missing (code < 0) -> NaN, left to the learner.
void ordinal_cpu(const int32_t* codes, size_t rows, const float* code_to_value,
                 int32_t num_codes, float* out, size_t stride);

// Calendar parts of UTC epoch seconds. `part`: 0 year, 1 month (1-12), 2 day of month,
// 3 day of week (0 = Monday), 4 day of year (1-366), 5 hour, 6 minute, 7 second.
enum class DatePart : int32_t { kYear, kMonth, kDay, kWeekday, kYearDay, kHour, kMinute, kSecond };
// NaN input -> NaN output.
void date_part_cpu(const double* epoch_seconds, size_t rows, DatePart part, float* out,
                   size_t stride);
// Cyclic encoding of a part with the given period: sin and cos of 2*pi*value/period into two
// adjacent columns (out, out+1). NaN -> 0, 0.
void cyclic_encode_cpu(const float* values, size_t rows, float period, float* out,
                       size_t stride);

}  // namespace tabpilot
