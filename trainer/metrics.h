// Objective and reported metrics. Predictions are values (regression) or row-major class
// probabilities (classification); labels are values or class indices stored as float.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tabpilot/data/problem_type.h"

namespace tabpilot {

enum class Metric {
  kMSE, kRMSE, kMAE, kR2,
  kAccuracy, kF1, kAUC, kBalancedAccuracy, kPrecision, kRecall, kLogLoss,
  kF1Macro, kPrecisionMacro, kRecallMacro,
};

std::string_view to_string(Metric m);  // Autopilot's names: "MSE", "F1macro", ...
// Case-insensitive; throws InputError listing the metrics valid for `task`.
Metric metric_from_string(std::string_view name, Task task);
bool higher_is_better(Metric m);
Metric default_objective(Task task);           // MSE, F1, Accuracy
std::vector<Metric> reported_metrics(Task task);  // all metrics computed per trial

// Binary metrics treat class index 1 as positive (see automl/labels for which label that is).
// Classification metrics take the arg-max class (binary: probability of class 1 >= 0.5).
double compute_metric(Metric m, Task task, const std::vector<float>& y_true,
                      const std::vector<float>& pred, int num_classes);

}  // namespace tabpilot
