#include "tabpilot/data/column_builder.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <sys/mman.h>  // for madvise

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/data/type_inference.h"

namespace tabpilot::detail {

MissingMarkers::MissingMarkers(const std::vector<std::string>& markers) : markers_(markers) {
  for (const std::string& m : markers_) {
    length_mask_ |= uint64_t{1} << (m.size() < 63 ? m.size() : 63);
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
}  // namespace

ColumnBuilder::ColumnBuilder(const FieldStore& store, std::string name, std::vector<uint64_t> spans,
                             const CsvOptions& options, const MissingMarkers& missing)
    : store_(store), missing_(missing), spans_(std::move(spans)) {
  col_.name = std::move(name);
  const size_t rows = spans_.size();
  may_be_id_ = std::find(options.never_id.begin(), options.never_id.end(), col_.name) ==
               options.never_id.end();
  sample_ = options.inference_sample ? options.inference_sample : SIZE_MAX;
  const auto forced = options.type_overrides.find(col_.name);
  forced_ = forced != options.type_overrides.end();
  col_.type = forced_ ? forced->second : ColumnType::kNumeric;
  switch (col_.type) {
    case ColumnType::kNumeric:
      stage_ = Stage::kNumeric;
      reserve_huge(col_.numeric, rows);
      col_.numeric.assign(rows, kNaN);
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

size_t ColumnBuilder::numeric_rows(size_t begin, size_t end) {
  float* out = col_.numeric.data();
  for (size_t r = begin; r < end; ++r) {
    const std::string_view s = store_.view(spans_[r]);
    if (missing_(s)) continue;
    double v;
    if (!parse_number(s, &v)) return r;
    if (std::isnan(v)) continue;  // "nan" spelled a way the markers do not list
    if (!(std::fabs(v) <= FLT_MAX)) {
      if (infinite_row_ == SIZE_MAX) infinite_row_ = r;
      continue;
    }
    out[r] = static_cast<float>(v);
    if (integral_ && v != std::floor(v)) integral_ = false;
    if (present_ > 0 && v != previous_ + 1) steps_by_one_ = false;
    previous_ = v;
    ++present_;
  }
  return end;
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
  for (size_t r = begin; r < end; ++r) {
    const std::string_view s = store_.view(spans_[r]);
    if (missing_(s)) continue;
    ++present_;
    if (sampled_ < sample_) {
      tokens_ += count_tokens(s);
      ++sampled_;
    }
    int32_t code = -1;
    if (dictionary_.empty()) {
      for (size_t i = 0; i < small_dictionary_.size(); ++i) {
        if (same_text(small_dictionary_[i], s)) {
          code = static_cast<int32_t>(i);
          break;
        }
      }
      if (code < 0) {
        code = static_cast<int32_t>(small_dictionary_.size());
        col_.categories.emplace_back(s);
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
  const std::string_view value = store_.view(spans_[failed_row]);
  if (forced_) {
    const bool numeric = stage_ == Stage::kNumeric;
    throw InputError(where(failed_row) + " is forced " + (numeric ? "numeric" : "datetime") +
                     " but holds '" + std::string(value) + "'; " +
                     (numeric ? "fix the value, add it to the missing markers, or drop the "
                                "override"
                              : "use ISO 8601 (2020-01-31 or 2020-01-31T12:00:00Z)"));
  }
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
  log::warn("column '" + col_.name + "' looks like an identifier (" + why +
            "); it is kept as an ID column and not used as a feature");
}

Column ColumnBuilder::finish() {
  add_rows(spans_.size());
  switch (stage_) {
    case Stage::kNumeric: {
      col_.type = ColumnType::kNumeric;
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
  spans_ = {};
  dictionary_ = {};
  small_dictionary_ = {};
  return std::move(col_);
}

}  // namespace tabpilot::detail
