// Calendar arithmetic shared by the date_part CPU twin and its CUDA kernel: one definition,
// so both give the same parts for the same epoch seconds. Proleptic Gregorian, UTC.
#pragma once
#include <cstdint>

#include "tabpilot/kernels/host_device.h"
#include "tabpilot/kernels/transform_ops.h"

namespace tabpilot {

// Days since 1970-01-01 to (year, month, day): Howard Hinnant's civil_from_days algorithm,
// written out from its published description.
TABPILOT_HOST_DEVICE inline void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
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

// One calendar part of a finite epoch time (callers handle NaN).
TABPILOT_HOST_DEVICE inline float date_part_of(double t, DatePart part) {
  // Whole seconds, rounded down, without calling floor (host and device spell it apart).
  int64_t secs = static_cast<int64_t>(t);
  if (static_cast<double>(secs) > t) --secs;
  const int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  switch (part) {
    case DatePart::kYear: return static_cast<float>(y);
    case DatePart::kMonth: return static_cast<float>(m);
    case DatePart::kDay: return static_cast<float>(d);
    case DatePart::kWeekday: {
      const int64_t w = (days + 3) % 7;  // 1970-01-01 was a Thursday (Monday = 0)
      return static_cast<float>(w < 0 ? w + 7 : w);
    }
    case DatePart::kYearDay: {
      const unsigned cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
      const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
      return static_cast<float>(cum[m - 1] + d + (m > 2 && leap ? 1 : 0));
    }
    case DatePart::kHour: return static_cast<float>(sod / 3600);
    case DatePart::kMinute: return static_cast<float>((sod / 60) % 60);
    case DatePart::kSecond: return static_cast<float>(sod % 60);
  }
  return 0.0f;
}

}  // namespace tabpilot
