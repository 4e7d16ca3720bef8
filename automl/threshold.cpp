#include "tabpilot/automl/threshold.h"

#include <algorithm>
#include <cmath>

namespace tabpilot {

nlohmann::json ThresholdChoice::to_json(Metric objective) const {
  return {{"value", value},
          {"metric", std::string(to_string(objective))},
          {"validation_at_0.5", at_half},
          {"validation_at_threshold", at_threshold}};
}

std::optional<ThresholdChoice> choose_threshold(Task task, Metric objective,
                                                const std::vector<float>& y,
                                                const std::vector<float>& pred) {
  if (task != Task::kBinary) return std::nullopt;
  if (objective != Metric::kF1 && objective != Metric::kAccuracy &&
      objective != Metric::kBalancedAccuracy)
    return std::nullopt;
  const size_t n = y.size();
  if (n == 0 || pred.size() != 2 * n) return std::nullopt;
  std::vector<float> p1(n);
  for (size_t i = 0; i < n; ++i) p1[i] = pred[i * 2 + 1];
  std::vector<float> sorted = p1;
  std::sort(sorted.begin(), sorted.end());
  std::vector<float> cands = {0.5f};
  for (int q = 1; q < 200; ++q) cands.push_back(sorted[std::min(n - 1, n * q / 200)]);
  std::vector<float> shifted(n * 2);
  auto score = [&](float t) {
    // Moving every probability by (0.5 - t) puts the threshold t where the metric's 0.5 is.
    for (size_t i = 0; i < n; ++i) {
      shifted[i * 2 + 1] = p1[i] + (0.5f - t);
      shifted[i * 2] = 1.0f - shifted[i * 2 + 1];
    }
    return compute_metric(objective, task, y, shifted, 2);
  };
  ThresholdChoice c;
  c.at_half = score(0.5f);
  c.at_threshold = c.at_half;
  for (float t : cands) {
    if (!(t > 0.0f && t < 1.0f)) continue;
    const double v = score(t);
    if (v > c.at_threshold ||
        (v == c.at_threshold && std::fabs(t - 0.5f) < std::fabs(c.value - 0.5f)))
      c.at_threshold = v, c.value = t;
  }
  return c;
}

}  // namespace tabpilot
