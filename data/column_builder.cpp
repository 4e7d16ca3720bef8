#include "tabpilot/data/column_builder.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cstring>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <sys/mman.h>  // for madvise

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/common/text.h"
#include "tabpilot/data/type_inference.h"

namespace tabpilot::detail {

MissingMarkers::MissingMarkers(const std::vector<std::string>& markers) : markers_(markers) {
  for (const std::string& m : markers_) {
    length_mask_ |= uint64_t{1} << (m.size() < 63 ? m.size() : 63);
    if (!m.empty()) starts_[static_cast<unsigned char>(m[0])] = true;
  }
}

void advise_huge_pages(const void* data, size_t bytes) {
#if defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (bytes < 2 * kHuge) return;
  const auto begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kNaNd = std::numeric_limits<double>::quiet_NaN();
// Categorical columns mostly have a handful of levels: a linear scan over them beats hashing
// every value. Past this many levels the lookup moves to a hash map.
constexpr size_t kSmallDictionary = 16;

// The usual numeric field ("-12.345", "4152": up to 15 digits, no exponent), parsed inline:
// the digits form an exact integer below 2^53 and 10^k is exact for k <= 15, so one
// division gives the correctly rounded double (Clinger's fast path). False sends the field
// to parse_number, which takes every other spelling. `integral` is whether the value has no
// fractional part, read off the digits instead of a floor() call.
inline bool parse_plain_decimal(const char* p, const char* e, double* out, bool* integral) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (p == e) return false;
  const bool negative = *p == '-';
  p += negative;
  const char* const digits_start = p;
  uint64_t mantissa = 0;  // wraps on long digit runs, which the digit count then rejects
  while (p < e) {
    const unsigned digit = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (digit > 9) break;
    mantissa = mantissa * 10 + digit;
    ++p;
  }
  uint64_t whole = mantissa;
  ptrdiff_t fraction = 0;
  const bool point = p < e && *p == '.';
  if (point) {
    const char* const fraction_start = ++p;
    while (p < e) {
      const unsigned digit = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (digit > 9) break;
      mantissa = mantissa * 10 + digit;
      ++p;
    }
    fraction = p - fraction_start;
  }
  const ptrdiff_t digits = p - digits_start - (point ? 1 : 0);
  if (p != e || digits <= 0 || digits > 15) return false;
  double v = static_cast<double>(static_cast<int64_t>(mantissa));
  if (fraction > 0) {
    v /= kPow10[fraction];
    // Integral when the fraction digits are all zero ("3.000").
    static constexpr uint64_t kPow10i[] = {1,         10,         100,         1000,
                                          10000,     100000,     1000000,     10000000,
                                          100000000, 1000000000, 10000000000, 100000000000,
                                          1000000000000, 10000000000000, 100000000000000,
                                          1000000000000000};
    whole = whole * kPow10i[fraction];
    *integral = whole == mantissa;
  } else {
    *integral = true;
  }
  *out = negative ? -v : v;
  return true;
}

// Up to 8 characters of digits with at most one point, read as one 64-bit word (SWAR):
// the point is found by a zero-byte test, squeezed out, and the digits are combined in
// three multiply steps instead of one per digit. `p` must have 8 readable bytes. Sets the
// digits as an integer and how many of them follow the point.
inline bool parse_short_decimal(const char* p, size_t length, uint64_t* digits_out,
                                int* fraction) {
  // Branch-free where the data varies (lengths, where the point is): a branch on those
  // would mispredict on every other field of a typical column.
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, p, 8);
  x &= ~uint64_t{0} >> (8 * (8 - length));  // length is 1..8
  const uint64_t point = x ^ (kOnes * '.');
  const uint64_t zero = (point - kOnes) & ~point & kHigh;
  // The first '.', or 8 when there is none (bytes past the length are 0, never a '.').
  const size_t at = zero != 0 ? static_cast<size_t>(std::countr_zero(zero) / 8) : 8;
  const bool has_point = at < length;
  const size_t cut = has_point ? at : 0;  // keeps the shift defined; unused without a point
  const uint64_t below = (uint64_t{1} << (8 * cut)) - 1;
  x = has_point ? (x & below) | ((x >> 8) & ~below) : x;
  const size_t digits = length - has_point;
  *fraction = has_point ? static_cast<int>(length - 1 - at) : 0;
  if (digits == 0) return false;
  // Right-align the digits in the word, with '0' bytes in front.
  const size_t pad = 8 - digits;  // 0..7
  x = (x << (8 * pad)) | (kOnes * '0' & ((uint64_t{1} << (8 * pad)) - 1));
  // Every byte 0x30..0x39; once the high nibbles are all 3, adding 6 cannot carry.
  if ((x & (kOnes * 0xF0)) != kOnes * 0x30 ||
      ((x + kOnes * 0x06) & (kOnes * 0xF0)) != kOnes * 0x30) {
    return false;
  }
  x -= kOnes * '0';
  x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
  x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
  x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
  *digits_out = x;
  return true;
}

// The first min(8, size) bytes of a value as a word, the rest zero. `loaded_prefix` reads 8
// bytes at the value's start, so it needs them to be readable.
inline uint64_t loaded_prefix(std::string_view s) {
  uint64_t word;
  std::memcpy(&word, s.data(), 8);
  return s.size() >= 8 ? word : word & ((uint64_t{1} << (8 * s.size())) - 1);
}
inline uint64_t copied_prefix(std::string_view s) {
  uint64_t word = 0;
  std::memcpy(&word, s.data(), s.size() < 8 ? s.size() : 8);
  return word;
}

}  // namespace

ColumnBuilder::ColumnBuilder(const FieldStore& store, std::string name, SpanColumn spans,
                             const CsvOptions& options, const MissingMarkers& missing)
    : store_(store), missing_(missing), spans_(spans) {
  col_.name = std::move(name);
  const size_t rows = spans_.size();
  may_be_id_ = std::find(options.never_id.begin(), options.never_id.end(), col_.name) ==
               options.never_id.end();
  sample_ = options.inference_sample ? options.inference_sample : SIZE_MAX;
  stray_budget_ = stray_budget(rows);
  const auto forced = options.type_overrides.find(col_.name);
  forced_ = forced != options.type_overrides.end();
  col_.type = forced_ ? forced->second : ColumnType::kNumeric;
  switch (col_.type) {
    case ColumnType::kNumeric:
      stage_ = Stage::kNumeric;
      // Filled in row order by numeric_rows; not pre-filled, which would write it twice.
      reserve_huge(col_.numeric, rows);
      break;
    case ColumnType::kDatetime:
      stage_ = Stage::kDatetime;
      col_.epoch_seconds.assign(rows, kNaNd);
      break;
    case ColumnType::kCategorical:
      stage_ = Stage::kStrings;
      col_.codes.assign(rows, -1);
      break;
    case ColumnType::kText:
    case ColumnType::kIdLike:
      stage_ = Stage::kRaw;
      col_.text.resize(rows);
      col_.text_missing.assign(rows, 0);
      break;
  }
}

std::string ColumnBuilder::where(size_t row) const {
  return store_.source + ":" + std::to_string(store_.line(row)) + ": column '" + col_.name + "'";
}

void ColumnBuilder::add_rows(size_t end) {
  while (done_ < end) {
    switch (stage_) {
      case Stage::kNumeric: {
        const size_t failed = numeric_rows(done_, end);
        if (failed < end) {
          fall_back(failed);
        } else {
          done_ = end;
        }
        break;
      }
      case Stage::kDatetime: {
        const size_t failed = datetime_rows(done_, end);
        if (failed < end) {
          fall_back(failed);
        } else {
          done_ = end;
        }
        break;
      }
      case Stage::kStrings:
        string_rows(done_, end);
        done_ = end;
        break;
      case Stage::kRaw:
        raw_rows(done_, end);
        done_ = end;
        break;
    }
  }
}

// Every field the inline path in numeric_rows does not take: missing markers, arena fields,
// long or unusual numbers. Kept out of line so that the hot loop stays small.
ColumnBuilder::NumericOutcome ColumnBuilder::numeric_slow(size_t r, double* v, bool* whole) {
  const std::string_view s = store_.view(spans_[r]);
  if (missing_(s)) return NumericOutcome::kSkip;
  if (!parse_plain_decimal(s.data(), s.data() + s.size(), v, whole)) {
    if (!parse_number(s, v)) return NumericOutcome::kFailed;
    if (std::isnan(*v)) return NumericOutcome::kSkip;  // "nan" spelled a way no marker lists
    if (!(std::fabs(*v) <= FLT_MAX)) {
      if (infinite_row_ == SIZE_MAX) infinite_row_ = r;
      return NumericOutcome::kSkip;
    }
    *whole = *v == std::floor(*v);
  }
  return NumericOutcome::kValue;
}

size_t ColumnBuilder::numeric_rows(size_t begin, size_t end) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  static constexpr uint64_t kPow10i[] = {1,      10,      100,      1000,     10000,
                                         100000, 1000000, 10000000, 100000000};
  std::vector<float>& out = col_.numeric;  // holds exactly the rows before `begin`
  bool integral = integral_, steps_by_one = steps_by_one_;
  double previous = previous_;
  size_t present = present_;
  const char* const text = store_.text.data();
  const size_t text_size = store_.text.size();
  size_t r = begin;
  for (; r < end; ++r) {
    const uint64_t span = spans_[r];
    const uint64_t offset = span >> kSpanLengthBits;
    const size_t size = static_cast<size_t>(span & kMaxFieldLength);
    double v;
    bool whole;
    uint64_t digits;
    int fraction;
    // Inline: fields in the file text with 16 bytes after their start (so the 8-byte read
    // stays inside the text), up to 8 characters after a sign, and a first byte that no
    // missing marker starts with.
    const bool readable = offset + 16 <= text_size;
    const char* p = text + (readable ? offset : 0);
    const bool negative = *p == '-';
    const size_t length = size - negative;
    if (readable && length - 1 < 8 && !missing_.may_start_with(*p) &&
        parse_short_decimal(p + negative, length, &digits, &fraction)) {
      v = static_cast<double>(static_cast<int64_t>(digits)) / kPow10[fraction];
      v = std::bit_cast<double>(std::bit_cast<uint64_t>(v) | uint64_t{negative} << 63);
      whole = !integral || fraction == 0 || digits % kPow10i[fraction] == 0;
    } else {
      NumericOutcome outcome = numeric_slow(r, &v, &whole);
      if (outcome == NumericOutcome::kFailed) {
        if (!take_stray(r, present)) break;
        outcome = NumericOutcome::kSkip;
      }
      if (outcome == NumericOutcome::kSkip) {
        out.push_back(kNaN);
        continue;
      }
    }
    out.push_back(static_cast<float>(v));
    integral = integral && whole;
    if (steps_by_one && present > 0 && v != previous + 1) steps_by_one = false;
    previous = v;
    ++present;
  }
  integral_ = integral;
  steps_by_one_ = steps_by_one;
  previous_ = previous;
  present_ = present;
  return r;
}

bool ColumnBuilder::take_stray(size_t row, size_t present) {
  if (strays_ >= stray_budget_) return false;
  double scratch;
  // A date before any number: the column may be dates; the fallback decides.
  if (present == 0 && !forced_ && parse_datetime(store_.view(spans_[row]), &scratch)) return false;
  if (strays_++ == 0) first_stray_row_ = row;
  return true;
}

size_t ColumnBuilder::datetime_rows(size_t begin, size_t end) {
  double* out = col_.epoch_seconds.data();
  for (size_t r = begin; r < end; ++r) {
    const std::string_view s = store_.view(spans_[r]);
    if (missing_(s)) continue;
    if (!parse_datetime(s, &out[r])) return r;
  }
  return end;
}

// Dictionary in order of first appearance; word counts over the inference sample.
void ColumnBuilder::string_rows(size_t begin, size_t end) {
  const size_t text_size = store_.text.size();
  for (size_t r = begin; r < end; ++r) {
    const uint64_t span = spans_[r];
    const std::string_view s = store_.view(span);
    if (missing_(s)) continue;
    ++present_;
    if (sampled_ < sample_) {
      tokens_ += count_tokens(s);
      ++sampled_;
    }
    int32_t code = -1;
    if (dictionary_.empty()) {
      // Levels compare as (length, first 8 bytes) words; memcmp only past 8 bytes.
      const uint64_t key = (span >> kSpanLengthBits) + 8 <= text_size ? loaded_prefix(s)
                                                                       : copied_prefix(s);
      for (size_t i = 0; i < small_dictionary_.size(); ++i) {
        if (small_keys_[i] == key && small_dictionary_[i].size() == s.size() &&
            (s.size() <= 8 ||
             std::memcmp(small_dictionary_[i].data() + 8, s.data() + 8, s.size() - 8) == 0)) {
          code = static_cast<int32_t>(i);
          break;
        }
      }
      if (code < 0) {
        code = static_cast<int32_t>(small_dictionary_.size());
        col_.categories.emplace_back(s);
        small_keys_.push_back(key);
        small_dictionary_.push_back(s);
        if (small_dictionary_.size() > kSmallDictionary) {
          for (size_t i = 0; i < small_dictionary_.size(); ++i) {
            dictionary_.emplace(small_dictionary_[i], static_cast<int32_t>(i));
          }
        }
      }
    } else {
      auto [it, added] = dictionary_.try_emplace(s, static_cast<int32_t>(col_.categories.size()));
      if (added) col_.categories.emplace_back(s);
      code = it->second;
    }
    col_.codes[r] = code;
  }
}

void ColumnBuilder::raw_rows(size_t begin, size_t end) {
  for (size_t r = begin; r < end; ++r) {
    const std::string_view s = store_.view(spans_[r]);
    if (missing_(s)) {
      col_.text_missing[r] = 1;
    } else {
      col_.text[r].assign(s);
    }
  }
}

void ColumnBuilder::fall_back(size_t failed_row) {
  if (strays_ > 0) failed_row = std::min(failed_row, first_stray_row_);
  const std::string_view value = store_.view(spans_[failed_row]);
  if (forced_) {
    const bool numeric = stage_ == Stage::kNumeric;
    throw InputError(where(failed_row) + " is " + (numeric ? "numeric" : "datetime") +
                     " but holds '" + shorten(value) + "'" +
                     (numeric && strays_ > 0 ? " (and more than " +
                                                   std::to_string(stray_budget_) +
                                                   " other values that are not numbers)"
                                             : std::string()) +
                     "; " +
                     (numeric ? "fix the values or add them to the missing markers"
                              : "use ISO 8601 (2020-01-31 or 2020-01-31T12:00:00Z)"));
  }
  strays_ = 0;
  first_stray_row_ = SIZE_MAX;
  const size_t rows = spans_.size();
  double scratch;
  // A number is never a date, so a column that held numbers goes straight to strings.
  if (stage_ == Stage::kNumeric && present_ == 0 && parse_datetime(value, &scratch)) {
    stage_ = Stage::kDatetime;
    col_.numeric = {};
    reserve_huge(col_.epoch_seconds, rows);
    col_.epoch_seconds.assign(rows, kNaNd);
  } else {
    stage_ = Stage::kStrings;
    col_.numeric = {};
    col_.epoch_seconds = {};
    reserve_huge(col_.codes, rows);
    col_.codes.assign(rows, -1);
  }
  present_ = 0;
  infinite_row_ = SIZE_MAX;  // "inf" among words is a category
  done_ = 0;
}

bool ColumnBuilder::numeric_is_id(const char** why) const {
  if (present_ < kIdMinRows || !integral_) return false;
  if (steps_by_one_) {
    *why = "integers increasing by one";
    return true;
  }
  if (!name_looks_like_id(col_.name)) return false;
  std::vector<float> values;
  values.reserve(present_);
  for (float v : col_.numeric) {
    if (!std::isnan(v)) values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  const size_t distinct = std::unique(values.begin(), values.end()) - values.begin();
  *why = "an id-like name with a distinct value on nearly every row";
  return distinct >= kIdNamedMinDistinctRatio * present_;
}

void ColumnBuilder::make_id_like(const char* why) {
  col_.type = ColumnType::kIdLike;
  col_.numeric = {};
  col_.codes = {};
  col_.categories = {};
  col_.text.resize(spans_.size());
  col_.text_missing.assign(spans_.size(), 0);
  raw_rows(0, spans_.size());
  col_.id_reason = why;  // the profile's id_like_column warning says it, once
}

Column ColumnBuilder::finish() {
  add_rows(spans_.size());
  // Strays must be few beside the numbers too: 3 numbers and 1 word are not a numeric column.
  if (stage_ == Stage::kNumeric && !forced_ && strays_ > 0 && present_ < 10 * strays_) {
    fall_back(first_stray_row_);
    add_rows(spans_.size());
  }
  switch (stage_) {
    case Stage::kNumeric: {
      col_.type = ColumnType::kNumeric;
      if (strays_ > 0)
        col_.strays = {strays_, shorten(store_.view(spans_[first_stray_row_])),
                       store_.line(first_stray_row_)};
      if (infinite_row_ != SIZE_MAX) {
        throw InputError(where(infinite_row_) + " holds '" +
                         std::string(store_.view(spans_[infinite_row_])) +
                         "', which is infinite or beyond float range; numeric columns must "
                         "be finite: replace it with a number or a missing marker");
      }
      const char* why = "";
      if (!forced_ && may_be_id_ && numeric_is_id(&why)) make_id_like(why);
      break;
    }
    case Stage::kDatetime:
      col_.type = ColumnType::kDatetime;
      break;
    case Stage::kStrings: {
      col_.type = ColumnType::kCategorical;
      if (forced_) break;
      const double distinct = static_cast<double>(col_.categories.size());
      const double mean_tokens = sampled_ ? static_cast<double>(tokens_) / sampled_ : 0.0;
      if (mean_tokens >= kTextMinMeanTokens && distinct >= kTextMinDistinctRatio * present_) {
        col_.type = ColumnType::kText;
        col_.codes = {};
        col_.categories = {};
        col_.text.resize(spans_.size());
        col_.text_missing.assign(spans_.size(), 0);
        raw_rows(0, spans_.size());
      } else if (may_be_id_ && present_ >= kIdMinRows &&
                 distinct >= kIdMinDistinctRatio * present_) {
        make_id_like("a distinct value on nearly every row");
      }
      break;
    }
    case Stage::kRaw:
      break;  // the forced type stands
  }
  dictionary_ = {};
  small_dictionary_ = {};
  small_keys_ = {};
  return std::move(col_);
}

}  // namespace tabpilot::detail
