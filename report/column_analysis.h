// What the data exploration report computes from the training data beyond
// data_exploration.json: per-column distributions, each column's prediction power on its own,
// Pearson correlations of numeric columns, duplicate-row examples. Runs on a row sample
// (max_rows) so that it stays fast on a million rows; the result says when it sampled.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/data/table.h"

namespace tabpilot::report {

// The correlation matrix's width at most (its size grows with the square).
inline constexpr size_t kMaxCorrelationColumns = 50;

struct ColumnAnalysis {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  bool is_target = false;
  double missing_fraction = 0;
  size_t distinct = 0;
  // numeric: summary; outliers = |z| > 3
  double mean = 0, median = 0, min = 0, max = 0, outlier_fraction = 0;
  std::vector<double> edges, counts;              // numeric histogram
  std::vector<std::string> top_labels;            // categorical/text: most frequent values
  std::vector<double> top_counts;
  double prediction_power = 0;  // 0..1, a one-column binned model vs the target
};

struct DatasetAnalysis {
  size_t rows_total = 0, rows_analysed = 0;
  bool sampled = false;
  std::vector<ColumnAnalysis> columns;
  // Correlations: at most kMaxCorrelationColumns of the numeric_columns_total numeric
  // columns (the target, then the features with the most prediction power), in this order.
  std::vector<std::string> numeric_names;
  std::vector<std::vector<double>> correlation;  // Pearson, pairwise-complete rows
  size_t numeric_columns_total = 0;
  std::vector<std::vector<std::string>> duplicate_examples;  // header = column names
  size_t duplicate_rows_in_sample = 0;
  // Anomaly score per analysed row: 1 - (largest |z| over numeric feature columns) / 3, so
  // negative means some value lies more than 3 standard deviations from its column's mean.
  // The most anomalous rows (lowest score first), as (row index, score).
  std::vector<std::pair<size_t, double>> anomalous_rows;
  size_t negative_anomaly_scores = 0;
  nlohmann::json to_json() const;
};

// Prediction power of one column on its own: bins (numeric quantiles / datetime / text
// length, or the 20 most frequent categories) + a missing bin; bin means (regression) or
// class frequencies (classification) fitted on one half of the rows and scored on the other,
// both ways. Regression: R^2; classification: 1 - Brier / Brier of the class priors; both
// clipped to [0, 1].
double prediction_power(const Column& feature, const Column& target, Task task,
                        const std::vector<size_t>& rows);

DatasetAnalysis analyse_dataset(const Table& table, const std::string& target, Task task,
                                size_t max_rows = 50000, uint64_t seed = 0);

}  // namespace tabpilot::report
