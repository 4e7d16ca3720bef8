#include <cmath>

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

namespace {

// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
// civil_from_days algorithm, written out from its published description).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

float date_part_of(double t, DatePart part) {
  int64_t secs = static_cast<int64_t>(std::floor(t));
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  switch (part) {
    case DatePart::kYear: return static_cast<float>(y);
    case DatePart::kMonth: return static_cast<float>(m);
    case DatePart::kDay: return static_cast<float>(d);
    case DatePart::kWeekday: {
      int64_t w = (days + 3) % 7;  // 1970-01-01 was a Thursday (Monday = 0)
      return static_cast<float>(w < 0 ? w + 7 : w);
    }
    case DatePart::kYearDay: {
      static const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
      int yd = cum[m - 1] + static_cast<int>(d) + (m > 2 && is_leap(y) ? 1 : 0);
      return static_cast<float>(yd);
    }
    case DatePart::kHour: return static_cast<float>(sod / 3600);
    case DatePart::kMinute: return static_cast<float>((sod / 60) % 60);
    case DatePart::kSecond: return static_cast<float>(sod % 60);
  }
  return NAN;
}

}  // namespace

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
