// The data-analysis step: per-column statistics, target analysis and warnings. Its JSON is
// data_exploration.json in the job folder.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/data/table.h"

namespace tabpilot {

struct Warning {
  std::string code;     // "constant_column", "id_like_column", "mostly_missing", "duplicate_rows",
                        // "class_imbalance", "tiny_class", "dropped_missing_target", ...
  std::string column;   // empty when the warning is about the table
  std::string message;  // one readable sentence
};

struct ColumnProfile {
  std::string name;
  ColumnType type;
  size_t missing = 0;
  double missing_fraction = 0;
  size_t distinct = 0;
  // Numeric and datetime (as epoch seconds): NaN when no values.
  double min = 0, max = 0, mean = 0, std = 0, p25 = 0, p50 = 0, p75 = 0;
  std::vector<std::pair<std::string, size_t>> top_values;  // up to 10, most frequent first
};

struct DataProfile {
  size_t rows = 0;
  size_t columns = 0;
  size_t duplicate_rows = 0;
  std::vector<ColumnProfile> column_profiles;
  std::vector<Warning> warnings;
  nlohmann::json to_json() const;
};

// The warning for a numeric column whose file held a few values that are not numbers.
std::string stray_message(const Column& c);

// Profiles every column. Adds warnings for constant, ID-like and mostly-missing (> 50%)
// columns and duplicate rows.
DataProfile profile_table(const Table& table);

// Target analysis for the detected task: class counts or distribution summary. Adds
// class_imbalance (smallest/largest < 0.1) and tiny_class (< 2 rows, cannot be split)
// warnings to `warnings`.
nlohmann::json analyze_target(const Column& target, Task task, std::vector<Warning>& warnings);

}  // namespace tabpilot
