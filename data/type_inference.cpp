#include "tabpilot/data/type_inference.h"

#include <charconv>  // for from_chars/to_chars: locale-free and fast
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tabpilot::detail {

namespace {

// Plain decimals of up to 15 digits ("-12.345"), the bulk of real files: the digits form an
// exact integer below 2^53 and 10^frac is exact for frac <= 22, so one division gives the
// correctly rounded double (Clinger's fast path). Anything else goes to from_chars.
bool parse_simple_decimal(const char* p, const char* e, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0, fraction = 0;
  while (p < e && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++digits;
    ++p;
  }
  if (p < e && *p == '.') {
    ++p;
    while (p < e && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      ++digits;
      ++fraction;
      ++p;
    }
  }
  if (p != e || digits == 0 || digits > 15) return false;
  const double v = static_cast<double>(mantissa) / kPow10[fraction];
  *out = negative ? -v : v;
  return true;
}

}  // namespace

bool parse_number(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (parse_simple_decimal(b, e, out)) return true;
  if (*b == '+') {  // from_chars rejects an explicit plus; CSV writers emit it
    ++b;
    if (b == e || *b == '-' || *b == '+') return false;
  }
  auto [ptr, ec] = std::from_chars(b, e, *out, std::chars_format::general);
  if (ptr != e) return false;
  if (ec == std::errc::result_out_of_range) {
    // 1e999 or 1e-999: from_chars leaves the value unset; strtod saturates like pandas.
    std::string copy(b, e);
    *out = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

int64_t days_from_civil(int64_t year, int month, int day) {
  // Count from 0000-03-01 so that the leap day ends each 4/100/400-year cycle; a
  // 400-year era has exactly 146097 days, which keeps the arithmetic exact for any year.
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;                           // [0, 399]
  const int64_t month_from_march = month > 2 ? month - 3 : month + 9;  // [0, 11]
  // Month lengths from March repeat 31,30,31,30,31 (153 days per 5 months).
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468 = days from 0000-03-01 to 1970-01-01
}

void civil_from_days(int64_t days, int64_t* year, int* month, int* day) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;  // month counted from March
  *day = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads between min and max digits.
bool read_int(const char*& p, const char* e, int min_digits, int max_digits, int* out) {
  int n = 0, v = 0;
  while (p < e && n < max_digits && is_digit(*p)) {
    v = v * 10 + (*p - '0');
    ++p;
    ++n;
  }
  *out = v;
  return n >= min_digits;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// HH:MM[:SS[.fff]] then optional Z / +HH[:MM] / -HHMM. Returns seconds relative to UTC
// midnight of the date (may be negative or exceed a day after the offset).
bool parse_time(const char* p, const char* e, double* seconds) {
  int h, m, s = 0;
  double frac = 0;
  if (!read_int(p, e, 1, 2, &h) || p == e || *p != ':') return false;
  ++p;
  if (!read_int(p, e, 2, 2, &m)) return false;
  if (p < e && *p == ':') {
    ++p;
    if (!read_int(p, e, 2, 2, &s)) return false;
    if (p < e && (*p == '.' || *p == ',')) {
      ++p;
      double scale = 0.1;
      const char* start = p;
      while (p < e && is_digit(*p)) {
        frac += (*p - '0') * scale;
        scale *= 0.1;
        ++p;
      }
      if (p == start) return false;
    }
  }
  if (h > 23 || m > 59 || s > 60) return false;
  double offset = 0;
  if (p < e && *p == ' ') ++p;  // "2020-01-02 03:04:05 +0100"
  if (p < e && *p == 'Z') {
    ++p;
  } else if (p < e && (*p == '+' || *p == '-')) {
    const int sign = *p == '-' ? -1 : 1;
    ++p;
    int oh, om = 0;
    if (!read_int(p, e, 2, 2, &oh)) return false;
    if (p < e && *p == ':') ++p;
    if (p < e && !read_int(p, e, 2, 2, &om)) return false;
    if (oh > 23 || om > 59) return false;
    offset = sign * (oh * 3600.0 + om * 60.0);
  }
  if (p != e) return false;
  *seconds = h * 3600.0 + m * 60.0 + s + frac - offset;
  return true;
}

}  // namespace

bool parse_datetime(std::string_view str, double* epoch_seconds) {
  const char* p = str.data();
  const char* e = p + str.size();
  if (str.size() < 8 || !is_digit(*p)) return false;
  int year = 0, month = 0, day = 0;
  if (str.size() >= 5 && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
      (p[4] == '-' || p[4] == '/')) {  // YYYY-MM-DD, YYYY/MM/DD
    const char sep = p[4];
    read_int(p, e, 4, 4, &year);
    ++p;
    const int width = sep == '-' ? 2 : 1;  // ISO months and days have two digits
    if (!read_int(p, e, width, 2, &month) || p == e || *p != sep) return false;
    ++p;
    if (!read_int(p, e, width, 2, &day)) return false;
  } else {  // MM/DD/YYYY, DD.MM.YYYY
    int a, b;
    if (!read_int(p, e, 1, 2, &a) || p == e || (*p != '/' && *p != '.')) return false;
    const char sep = *p++;
    if (!read_int(p, e, 1, 2, &b) || p == e || *p != sep) return false;
    ++p;
    if (!read_int(p, e, 4, 4, &year)) return false;
    month = sep == '/' ? a : b;
    day = sep == '/' ? b : a;
  }
  if (p < e && is_digit(*p)) return false;  // a fifth year digit or a longer day
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
    return false;
  }
  double seconds = 0;
  if (p < e) {
    if (*p != 'T' && *p != ' ') return false;
    ++p;
    if (!parse_time(p, e, &seconds)) return false;
  }
  *epoch_seconds = static_cast<double>(days_from_civil(year, month, day)) * 86400.0 + seconds;
  return true;
}

std::string format_datetime(double epoch_seconds) {
  if (std::isnan(epoch_seconds)) return "";
  const double whole = std::floor(epoch_seconds);
  const auto secs = static_cast<int64_t>(whole);
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[64];
  const double frac = epoch_seconds - whole;
  if (rem == 0 && frac == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(y), m, d);
    return buf;
  }
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d",
                        static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                        static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  if (frac > 0) {
    char fbuf[32];
    std::snprintf(fbuf, sizeof fbuf, "%.6f", frac);  // "0.250000"
    std::string f(fbuf + 1);
    while (f.size() > 2 && f.back() == '0') f.pop_back();
    n += std::snprintf(buf + n, sizeof buf - n, "%s", f.c_str());
  }
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

std::string format_float(float value) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ptr);
}

bool name_looks_like_id(std::string_view name) {
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  auto ends = [](std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  if (lower == "id" || lower == "key" || lower == "uuid" || lower == "guid") return true;
  if (lower.find("identifier") != std::string::npos) return true;
  for (std::string_view suffix : {"_id", "-id", " id", ".id", "_key", "-key", " key"}) {
    if (ends(lower, suffix)) return true;
  }
  // camelCase "customerID" / "PassengerId", but not an upper-case word like "PAID".
  if (name.size() > 2 && (ends(name, "ID") || ends(name, "Id"))) {
    const char before = name[name.size() - 3];
    return (before >= 'a' && before <= 'z') || is_digit(before);
  }
  return false;
}

size_t count_tokens(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace tabpilot::detail
