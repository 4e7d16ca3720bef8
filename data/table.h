// Columnar table: what ingestion produces and what transforms consume. Numeric columns are
// float with NaN for missing; categorical are int32 codes into a dictionary (-1 = missing);
// text and ID-like keep their strings; datetime keeps seconds since the Unix epoch (UTC).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tabpilot {

enum class ColumnType : uint8_t { kNumeric, kCategorical, kText, kDatetime, kIdLike };

// "numeric", "categorical", "text", "datetime", "id".
std::string_view to_string(ColumnType type);
// Inverse of to_string; throws InputError listing the known names.
ColumnType column_type_from_string(std::string_view name);

// Values of a numeric column that are not numbers and were read as missing (a stray "0x10"
// among 275 numbers): how many, the first one and the line it is on (data/column_builder.h).
struct StrayValues {
  size_t count = 0;
  std::string first;
  size_t line = 0;
};

struct Column {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  StrayValues strays;     // kNumeric read from a file: values read as missing
  std::string id_reason;  // kIdLike by inference: why ("integers increasing by one")
  std::vector<float> numeric;           // kNumeric: NaN = missing
  std::vector<int32_t> codes;           // kCategorical: index into categories, -1 = missing
  std::vector<std::string> categories;  // kCategorical dictionary, in order of first appearance
  std::vector<std::string> text;        // kText, kIdLike: raw strings
  std::vector<uint8_t> text_missing;    // kText, kIdLike: 1 where missing
  std::vector<double> epoch_seconds;    // kDatetime: NaN = missing

  size_t size() const;
  bool is_missing(size_t row) const;
  size_t missing_count() const;
  // The value as text, for reports and labels ("" when missing). Numbers print in the
  // shortest form that round-trips ("3", "0.25").
  std::string value_string(size_t row) const;
  // A new column holding the given rows, in that order.
  Column take(const std::vector<size_t>& rows) const;
};

struct Table {
  std::vector<Column> columns;
  size_t num_rows = 0;

  // Index of the column with this exact name, or -1.
  int find(std::string_view name) const;
  const Column& at(std::string_view name) const;  // throws InputError if absent
  std::vector<std::string> names() const;
  Table take(const std::vector<size_t>& rows) const;
};

}  // namespace tabpilot
