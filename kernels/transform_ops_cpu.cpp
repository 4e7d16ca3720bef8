#include <cmath>

#include "tabpilot/kernels/date_parts.h"
#include "tabpilot/kernels/transform_ops.h"

namespace tabpilot {

void impute_scale_cpu(const float* in, size_t rows, float fill, float center, float inv_scale,
                      float* out, size_t stride, float* missing_out) {
  for (size_t r = 0; r < rows; ++r) {
    float v = in[r];
    bool missing = std::isnan(v);
    out[r * stride] = ((missing ? fill : v) - center) * inv_scale;
    if (missing_out) missing_out[r * stride] = missing ? 1.0f : 0.0f;
  }
}

void one_hot_cpu(const int32_t* codes, size_t rows, const int32_t* code_to_slot,
                 int32_t num_codes, int32_t missing_slot, float* out, size_t stride,
                 int32_t width) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = out + r * stride;
    for (int32_t j = 0; j < width; ++j) row[j] = 0.0f;
    int32_t code = codes[r];
    int32_t slot = code < 0 ? missing_slot : (code < num_codes ? code_to_slot[code] : -1);
    if (slot >= 0 && slot < width) row[slot] = 1.0f;
  }
}

void ordinal_cpu(const int32_t* codes, size_t rows, const float* code_to_value,
                 int32_t num_codes, float* out, size_t stride) {
  for (size_t r = 0; r < rows; ++r) {
    int32_t code = codes[r];
    out[r * stride] = (code < 0 || code >= num_codes) ? NAN : code_to_value[code];
  }
}


void date_part_cpu(const double* epoch_seconds, size_t rows, DatePart part, float* out,
                   size_t stride) {
  for (size_t r = 0; r < rows; ++r) {
    double t = epoch_seconds[r];
    out[r * stride] = std::isnan(t) ? NAN : date_part_of(t, part);
  }
}

void cyclic_encode_cpu(const float* values, size_t rows, float period, float* out,
                       size_t stride) {
  const float w = 2.0f * static_cast<float>(M_PI) / period;
  for (size_t r = 0; r < rows; ++r) {
    float v = values[r];
    if (std::isnan(v)) {
      out[r * stride] = 0.0f;
      out[r * stride + 1] = 0.0f;
    } else {
      out[r * stride] = std::sin(w * v);
      out[r * stride + 1] = std::cos(w * v);
    }
  }
}

}  // namespace tabpilot
