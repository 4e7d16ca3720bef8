// Value parsers and the column-typing rules shared by the CSV reader and Table: numbers,
// dates and times (to UTC epoch seconds by our own calendar arithmetic), ID-like names,
// and the thresholds that separate categorical, text and ID-like string columns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tabpilot::detail {

// A text column has many distinct values that read like sentences.
inline constexpr double kTextMinMeanTokens = 3.0;
inline constexpr double kTextMinDistinctRatio = 0.5;
// ID-like: a distinct value on nearly every row of a column that is long enough to tell.
inline constexpr double kIdMinDistinctRatio = 0.95;
// A column named like an id needs less: repeated records (e.g. the same patient twice) are common.
inline constexpr double kIdNamedMinDistinctRatio = 0.8;
inline constexpr size_t kIdMinRows = 20;
// A column of numbers with a few values that are not (at most 1% of its rows, at least one,
// and fewer than a tenth of its numbers) stays numeric, those values read as missing with a
// warning; more make it categorical.
inline constexpr double kStrayMaxFraction = 0.01;
inline size_t stray_budget(size_t rows) {
  const auto n = static_cast<size_t>(static_cast<double>(rows) * kStrayMaxFraction);
  return n > 0 ? n : 1;
}

// True when all of `s` is a decimal number (optional sign, digits, point, exponent) or
// inf/nan spelled as strtod accepts them; the value goes to `out`.
bool parse_number(std::string_view s, double* out);

// ISO 8601 date or date-time ('T' or space, optional seconds, fraction, 'Z' or offset),
// YYYY/MM/DD, MM/DD/YYYY and DD.MM.YYYY, each with an optional time. Out: UTC epoch seconds.
bool parse_datetime(std::string_view s, double* epoch_seconds);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t year, int month, int day);
void civil_from_days(int64_t days, int64_t* year, int* month, int* day);

// "2020-01-02" at midnight, else "2020-01-02T03:04:05[.fff]Z".
std::string format_datetime(double epoch_seconds);

// Shortest text that reads back to the same float ("3", "0.25").
std::string format_float(float value);

// "id", "user_id", "customerID", "PassengerId", "key", "record identifier", ...
bool name_looks_like_id(std::string_view name);

// Whitespace-separated words in `s`.
size_t count_tokens(std::string_view s);

}  // namespace tabpilot::detail
