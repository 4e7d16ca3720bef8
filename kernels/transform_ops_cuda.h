// CUDA twins of transform_ops.h: same arguments and same results as the _cpu functions, plus
// a trailing stream. Pointers are device pointers; calls are queued on `stream` (on the current
// device) and return without waiting. C++17, no CUDA headers; without CUDA they throw
// UnavailableError.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tabpilot/cuda/stream.h"
#include "tabpilot/kernels/transform_ops.h"

namespace tabpilot {

void impute_scale_cuda(const float* in, size_t rows, float fill, float center, float inv_scale,
                       float* out, size_t stride, float* missing_out, StreamHandle stream);

void one_hot_cuda(const int32_t* codes, size_t rows, const int32_t* code_to_slot,
                  int32_t num_codes, int32_t missing_slot, float* out, size_t stride,
                  int32_t width, StreamHandle stream);

void ordinal_cuda(const int32_t* codes, size_t rows, const float* code_to_value,
                  int32_t num_codes, float* out, size_t stride, StreamHandle stream);

void date_part_cuda(const double* epoch_seconds, size_t rows, DatePart part, float* out,
                    size_t stride, StreamHandle stream);

void cyclic_encode_cuda(const float* values, size_t rows, float period, float* out,
                        size_t stride, StreamHandle stream);

// impute_scale_cuda over `num_columns` columns at once, column c written to out column c:
// out[r * stride + c] = ((isnan(x) ? fill[c] : x) - center[c]) * inv_scale[c] with
// x = columns[c][r]. `columns`, `fill`, `center` and `inv_scale` are device arrays of length
// num_columns. Equal to one impute_scale_cuda call per column, but tiled through shared memory
// so that writes to the row-major output are coalesced (one column at a time writes 4 bytes
// per 32-byte sector when stride is large).
void impute_scale_columns_cuda(const float* const* columns, size_t rows, int32_t num_columns,
                               const float* fill, const float* center, const float* inv_scale,
                               float* out, size_t stride, StreamHandle stream);

}  // namespace tabpilot
