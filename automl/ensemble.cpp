#include "tabpilot/automl/ensemble.h"

#include <stdexcept>
#include <string>

#include "tabpilot/common/error.h"

namespace tabpilot {

EnsembleSelection select_ensemble(const std::vector<const std::vector<float>*>& preds,
                                  const std::vector<float>& y, Task task, int num_classes,
                                  Metric metric, int rounds) {
  if (preds.empty() || y.empty()) throw std::invalid_argument("select_ensemble: no models or rows");
  const size_t n = preds[0]->size();
  for (const auto* p : preds)
    if (!p || p->size() != n) throw std::invalid_argument("select_ensemble: prediction sizes differ");
  const bool higher = higher_is_better(metric);
  auto improves = [&](double a, double b) { return higher ? a > b : a < b; };

  std::vector<double> sum(n, 0.0);
  std::vector<int> counts(preds.size(), 0), best_counts;
  std::vector<float> avg(n);
  auto score_with = [&](size_t m, int total) {
    const double inv = 1.0 / total;
    for (size_t i = 0; i < n; ++i) avg[i] = static_cast<float>((sum[i] + (*preds[m])[i]) * inv);
    return compute_metric(metric, task, y, avg, num_classes);
  };

  EnsembleSelection out;
  out.single_objective = compute_metric(metric, task, y, *preds[0], num_classes);
  // Round 1 is the best single model (Caruana's "initialise with the best model").
  for (size_t i = 0; i < n; ++i) sum[i] = (*preds[0])[i];
  counts[0] = 1;
  out.objective = out.single_objective;
  out.rounds = 1;
  best_counts = counts;
  for (int r = 2; r <= rounds; ++r) {
    size_t pick = 0;
    double pick_score = 0;
    for (size_t m = 0; m < preds.size(); ++m) {
      double s = score_with(m, r);
      if (m == 0 || improves(s, pick_score)) pick = m, pick_score = s;
    }
    for (size_t i = 0; i < n; ++i) sum[i] += (*preds[pick])[i];
    ++counts[pick];
    if (improves(pick_score, out.objective)) {
      out.objective = pick_score;
      out.rounds = r;
      best_counts = counts;
    }
  }
  double total = 0;
  for (int c : best_counts) total += c;
  out.weights.resize(preds.size());
  for (size_t m = 0; m < preds.size(); ++m) out.weights[m] = best_counts[m] / total;
  return out;
}

Metric ensemble_selection_metric(Task task, Metric objective, std::string_view rule) {
  if (rule != "auto" && rule != "objective")
    throw InputError("--ensemble-metric must be auto or objective, not '" + std::string(rule) + "'");
  if (rule == "objective" || task == Task::kRegression) return objective;
  switch (objective) {
    case Metric::kAUC:
    case Metric::kLogLoss:
      return objective;  // already scores probabilities
    default:
      return Metric::kLogLoss;
  }
}

}  // namespace tabpilot
