// Greedy ensemble selection (Caruana, Niculescu-Mizil, Crew, Ksikes 2004): starting from the
// best single model, repeatedly add (with replacement) the model whose addition gives the
// best validation score of the averaged predictions. Weights are the selection counts. The
// result is the best prefix of the rounds, so it is never worse than the best single model
// on the rows it was selected on.
#pragma once
#include <string_view>
#include <vector>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {

struct EnsembleSelection {
  std::vector<double> weights;  // one per model, summing to 1
  double objective = 0;         // validation objective of the weighted average
  double single_objective = 0;  // of models[0] alone
  int rounds = 0;               // selection rounds of the kept prefix (1 = the best model alone)
};

// `preds[m]`: model m's validation predictions (values, or rows x classes probabilities),
// all on the same rows as `y`; models[0] should be the best single model. Deterministic: ties
// go to the lower model index. Throws std::invalid_argument on empty or mismatched inputs.
EnsembleSelection select_ensemble(const std::vector<const std::vector<float>*>& preds,
                                  const std::vector<float>& y, Task task, int num_classes,
                                  Metric metric, int rounds);

// The metric the selection climbs for a job's objective: the objective itself, except that
// classification objectives that count hard decisions (F1, Accuracy, Precision, ...) use the
// validation LogLoss. Hill-climbing a step metric on a few hundred rows fits their noise (and,
// for binary F1, the 0.5 threshold that is tuned afterwards anyway); the log loss rewards
// better probabilities, and the decision threshold is then chosen on the ensemble's own
// predictions. Measured in the suite: bench/RESULTS.md. `rule` is JobConfig::ensemble_metric:
// "auto" (the above) or "objective" (always the objective); anything else is an InputError.
Metric ensemble_selection_metric(Task task, Metric objective, std::string_view rule = "auto");

}  // namespace tabpilot
