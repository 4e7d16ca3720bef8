// The decision threshold of a binary classifier: the probability of the positive class from
// which it predicts that class. For objectives that count hard decisions (F1, accuracy,
// balanced accuracy) the threshold that maximises the objective on the validation predictions
// replaces 0.5 (AutoGluon does the same); precision and recall alone would be maximised by a
// degenerate threshold, so they keep 0.5.
#pragma once
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {

struct ThresholdChoice {
  float value = 0.5f;
  double at_half = 0;       // the objective at 0.5
  double at_threshold = 0;  // ... and at value
  nlohmann::json to_json(Metric objective) const;
};

// nullopt when the task or objective has no threshold to tune. `pred` holds rows x 2
// probabilities. Candidates: 0.5 and up to 199 quantiles of the positive probabilities; ties
// go to the threshold nearer 0.5.
std::optional<ThresholdChoice> choose_threshold(Task task, Metric objective,
                                                const std::vector<float>& y,
                                                const std::vector<float>& pred);

}  // namespace tabpilot
