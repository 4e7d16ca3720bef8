// The best candidate's predictions on the rows it was validated on (out-of-fold rows under
// cross-validation, the hold-out rows otherwise), kept in the job folder so that reports
// (model quality) and ensemble selection need no retraining.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "tabpilot/data/problem_type.h"

namespace tabpilot {

inline constexpr const char* kValidationPredictionsFile = "validation_predictions.csv";

struct ValidationPredictions {
  Task task = Task::kRegression;
  std::vector<std::string> labels;  // classification: class index -> label text
  std::vector<size_t> rows;         // row of the training file (0-based, data rows only)
  std::vector<float> y_true;        // value, or class index
  std::vector<float> pred;          // value, or rows x classes probabilities (row-major)
  float decision_threshold = 0.5f;  // binary: the model predicts class 1 at or above this

  int num_classes() const { return is_classification(task) ? static_cast<int>(labels.size()) : 1; }
  size_t size() const { return y_true.size(); }
};

// First line "# problem_type=<type>[ decision_threshold=<t>]", then
// CSV: row,label,prediction (regression) or row,label,probability_<label>... (classification;
// label is the class text). Written atomically.
void save_validation_predictions(const std::filesystem::path& file, const ValidationPredictions& v);
// Throws InputError naming the file and line when it is missing or malformed.
ValidationPredictions load_validation_predictions(const std::filesystem::path& file);

}  // namespace tabpilot
