// Internal to the CSV reader: where tokenized fields live (8-byte spans into the file text
// or a side arena of unescaped quoted fields) and the step that turns one column's spans
// into a typed Column.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tabpilot/data/csv.h"
#include "tabpilot/data/table.h"

namespace tabpilot::detail {

// A field is (offset << 24 | length): 40 bits of offset (1 TiB) and 24 of length (16 MiB),
// so that a numeric file costs about one span per field of 8 bytes, not a std::string.
inline constexpr int kSpanLengthBits = 24;
inline constexpr uint64_t kMaxFieldLength = (uint64_t{1} << kSpanLengthBits) - 1;
inline constexpr uint64_t kMaxSpanOffset = (uint64_t{1} << (64 - kSpanLengthBits)) - 1;

inline uint64_t make_span(uint64_t offset, uint64_t length) {
  return offset << kSpanLengthBits | length;
}

// Offsets below text.size() point into the file text, the rest into the arena.
struct FieldStore {
  std::string_view text;
  std::string_view arena;
  std::string source;                         // file name for messages
  const std::vector<uint32_t>* record_lines;  // physical line where each data row starts

  std::string_view view(uint64_t span) const {
    const uint64_t offset = span >> kSpanLengthBits;
    const size_t length = static_cast<size_t>(span & kMaxFieldLength);
    return offset < text.size() ? text.substr(offset, length)
                                : arena.substr(offset - text.size(), length);
  }
  size_t line(size_t row) const { return (*record_lines)[row]; }
};

// One column of a row-major span matrix (record r, column c at base[r * stride + c]): the
// tokenizer writes each record's spans next to each other, one stream instead of one per
// column, and nothing is copied per column.
class SpanColumn {
 public:
  SpanColumn() = default;
  SpanColumn(const uint64_t* base, size_t stride, size_t rows)
      : base_(base), stride_(stride), rows_(rows) {}
  uint64_t operator[](size_t row) const { return base_[row * stride_]; }
  size_t size() const { return rows_; }

 private:
  const uint64_t* base_ = nullptr;
  size_t stride_ = 0;
  size_t rows_ = 0;
};

// Asks for transparent huge pages over a large buffer that is about to be filled: a 100 MB
// file needs ~150 MB of spans and columns, and 4 KiB pages cost one fault each.
void advise_huge_pages(const void* data, size_t bytes);

// Reserves a vector's final size and advises huge pages before anything touches it.
template <class V>
void reserve_huge(V& v, size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(typename V::value_type));
}

// Equality that rejects on length and first byte before calling memcmp: most compares in
// the reader are between short values that differ early.
inline bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         (a.empty() || (a[0] == b[0] && std::memcmp(a.data(), b.data(), a.size()) == 0));
}

// Exact-match missing markers, with a length mask so that most numbers skip every compare.
class MissingMarkers {
 public:
  explicit MissingMarkers(const std::vector<std::string>& markers);
  bool operator()(std::string_view value) const {
    const size_t bit = value.size() < 63 ? value.size() : 63;
    if (!(length_mask_ >> bit & 1)) return false;
    for (const std::string& m : markers_) {
      if (same_text(m, value)) return true;
    }
    return false;
  }
  // Whether a value starting with this byte can be a marker. Markers rarely start like a
  // number ("NA", "?", ""), so a field starting with a digit or '-' usually skips the check.
  bool may_start_with(char first) const { return starts_[static_cast<unsigned char>(first)]; }

 private:
  std::vector<std::string> markers_;
  uint64_t length_mask_ = 0;
  bool starts_[256] = {};
};

// Types one column (override, else inference) and converts its rows. Rows arrive in blocks
// (add_rows) so that the reader can convert every column of a block while that block's text
// is still in cache; converting a whole column at a time would miss the cache on every field
// of a row-major file. A column tries numeric, then datetime, then strings; each fallback
// re-reads the rows done so far, which is rare and bounded by the rows seen.
class ColumnBuilder {
 public:
  // `spans` must outlive finish().
  ColumnBuilder(const FieldStore& store, std::string name, SpanColumn spans,
                const CsvOptions& options, const MissingMarkers& missing);
  // Converts rows up to (not including) `end`.
  void add_rows(size_t end);
  // After all rows: the final type (text and ID-like are decided here) and the Column.
  // Throws InputError for infinite values in a numeric column.
  Column finish();

 private:
  enum class Stage { kNumeric, kDatetime, kStrings, kRaw };
  // Each returns the first row in [begin, end) it could not convert, or `end`.
  size_t numeric_rows(size_t begin, size_t end);
  enum class NumericOutcome { kValue, kSkip, kFailed };
  [[gnu::noinline]] NumericOutcome numeric_slow(size_t row, double* value, bool* whole);
  size_t datetime_rows(size_t begin, size_t end);
  void string_rows(size_t begin, size_t end);
  void raw_rows(size_t begin, size_t end);
  void fall_back(size_t failed_row);
  // Whether the numeric value that failed at `row` may be read as missing (a stray token);
  // counts it when so.
  bool take_stray(size_t row, size_t present);
  void make_id_like(const char* why);
  bool numeric_is_id(const char** why) const;
  std::string where(size_t row) const;

  const FieldStore& store_;
  const MissingMarkers& missing_;
  SpanColumn spans_;
  Column col_;
  Stage stage_ = Stage::kNumeric;
  bool forced_ = false;
  bool may_be_id_ = true;
  size_t done_ = 0;
  size_t sample_ = 0;
  // Numeric facts.
  size_t present_ = 0;
  bool integral_ = true;
  bool steps_by_one_ = true;  // each present value is the previous present value + 1
  double previous_ = 0;
  size_t infinite_row_ = SIZE_MAX;
  size_t strays_ = 0, first_stray_row_ = SIZE_MAX, stray_budget_ = 1;
  // String facts.
  size_t tokens_ = 0, sampled_ = 0;
  std::vector<std::string_view> small_dictionary_;
  std::vector<uint64_t> small_keys_;  // prefix words of small_dictionary_
  std::unordered_map<std::string_view, int32_t> dictionary_;
};

}  // namespace tabpilot::detail
