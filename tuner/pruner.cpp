#include "tabpilot/tuner/pruner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace tabpilot {
namespace {

// The value of a trial's first report at or past `step`, if it has one.
std::optional<double> value_at(const TrialRecord& t, long long step) {
  std::optional<std::pair<int, double>> first;
  for (const auto& r : t.intermediate)
    if (r.first >= step && (!first || r.first < first->first)) first = r;
  if (!first) return std::nullopt;
  return first->second;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

long long rung_step(const PrunerConfig& c, int k) {
  long long s = c.min_resource;
  for (int i = 0; i < k && s < (1LL << 40); ++i) s *= c.eta;
  return s;
}

PruneDecision judge(const TrialRecord& trial, int step, double value,
                    const std::vector<TrialRecord>& peers, const PrunerConfig& c) {
  if (c.min_resource < 1) throw std::invalid_argument("pruner min_resource must be at least 1");
  if (c.eta < 2) throw std::invalid_argument("pruner eta must be at least 2");
  PruneDecision d;
  if (!c.enabled) return d;
  if (!std::isfinite(value)) {
    d.prune = true;
    d.reason = "pruned at step " + std::to_string(step) + ": non-finite validation loss";
    return d;
  }
  // The last step reported before this one: a rung between it and `step` is crossed now.
  long long prev = std::numeric_limits<long long>::min();
  for (const auto& r : trial.intermediate)
    if (r.first < step) prev = std::max<long long>(prev, r.first);
  int rung = -1;
  for (int k = 0; rung_step(c, k) <= step; ++k)
    if (rung_step(c, k) > prev) rung = k;
  if (rung < 0) return d;
  d.rung = rung;
  const long long at = rung_step(c, rung);

  std::vector<double> values;
  for (const auto& p : peers) {
    if (p.id == trial.id || p.candidate != trial.candidate) continue;
    if (auto v = value_at(p, at); v && std::isfinite(*v)) values.push_back(*v);
  }
  if (values.size() < static_cast<size_t>(c.eta)) return d;
  values.push_back(value);
  const size_t keep = std::max<size_t>(1, values.size() / static_cast<size_t>(c.eta));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(keep - 1),
                   values.end());
  const double cutoff = values[keep - 1];
  if (value > cutoff) {
    d.prune = true;
    d.reason = "pruned at rung " + std::to_string(rung) + " (step " + std::to_string(at) +
               "): validation loss " + fmt(value) + " outside the best " + std::to_string(keep) +
               " of " + std::to_string(values.size()) + " (cutoff " + fmt(cutoff) + ")";
  }
  return d;
}

}  // namespace tabpilot
