// Per-column statistics in Model Monitor's statistics.json schema (contract 5.2): inferred
// type (Integral / Fractional / String / Unknown, as Deequ names them), completeness, exact
// moments, a KLL sketch with 10 equal-width buckets for numeric columns, and value counts for
// string columns.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/table.h"
#include "tabpilot/monitor/kll_sketch.h"

namespace tabpilot::monitor {

inline constexpr int kDistributionBuckets = 10;  // fixed in Model Monitor
// String columns list at most this many values (most frequent first); distinct_count and the
// drift's normalisation still count every value.
inline constexpr size_t kMaxCategoricalBuckets = 1000;

enum class ValueKind : uint8_t { kMissing, kIntegral, kFractional, kString };

// One column's cells classified the way Deequ's DataType analyzer does: missing, a whole
// number, another number, or a string. Numbers keep their value.
struct ColumnValues {
  const Column* column = nullptr;  // the source, for the text of each cell
  std::vector<ValueKind> kinds;
  std::vector<double> numbers;  // NaN unless the cell is a number

  std::string name() const { return column->name; }
  std::string text(size_t row) const { return column->value_string(row); }
  size_t size() const { return kinds.size(); }
};
ColumnValues classify(const Column& column);
// "String" if any present cell is a string, else "Fractional" if any number is not whole,
// else "Integral"; "Unknown" when every cell is missing.
std::string infer_type(const ColumnValues& values);
bool is_numeric_type(const std::string& inferred_type);

struct FeatureStatistics {
  std::string name;
  std::string inferred_type;
  size_t num_present = 0, num_missing = 0;
  // Numeric (Integral / Fractional): exact moments (population std_dev, as Deequ) + sketch.
  double mean = 0, sum = 0, std_dev = 0, min = 0, max = 0;
  KllSketch sketch;
  // String: value -> count over every present value.
  std::map<std::string, size_t> counts;
  size_t distinct_count = 0;

  double completeness() const {
    const size_t n = num_present + num_missing;
    return n ? static_cast<double>(num_present) / static_cast<double>(n) : 0.0;
  }
};

// Statistics of `values` read as `as_type`: a numeric type uses the cells that are numbers
// (string cells count as neither present nor missing), "String" uses every present cell's text.
FeatureStatistics profile(const ColumnValues& values, const std::string& as_type);

// {"name","inferred_type","numerical_statistics"|"string_statistics"}
nlohmann::json feature_json(const FeatureStatistics& f);
// Inverse of feature_json (what drift needs: counts, sketch, value counts). `where` names the
// file for errors.
FeatureStatistics feature_from_json(const nlohmann::json& j, const std::string& where);

// The whole document: {"version":0,"dataset":{"item_count":n},"features":[...]}.
nlohmann::json statistics_json(const std::vector<FeatureStatistics>& features, size_t item_count);

}  // namespace tabpilot::monitor
