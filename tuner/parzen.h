// Parzen estimators, the densities of TPE: a mixture of truncated Gaussians (one per
// observation plus a broad prior) for numeric parameters, and smoothed counts for choices.
// Numeric parameters live in "internal" coordinates: the log of the value for log types,
// and integers widened by half a step on each side so that each integer owns a cell.
#pragma once
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/trainer/hyperparams.h"
#include "tabpilot/tuner/rng.h"

namespace tabpilot {

// The value of a numeric parameter in internal coordinates (clamped to the range).
double to_internal(const ParamSpec& spec, double value);
// Back to a parameter value: exp for log types, rounded and typed as an integer for ints.
nlohmann::json from_internal(const ParamSpec& spec, double x);

class NumericParzen {
 public:
  // `obs` in internal coordinates. Bandwidths follow hyperopt's adaptive rule: the larger
  // gap to a sorted neighbour, clipped to [range / min(100, 1 + n), range]; the prior is a
  // Gaussian at the middle of the range with sigma = range and weight `prior_weight`.
  NumericParzen(const ParamSpec& spec, const std::vector<double>& obs, double prior_weight);
  double sample(rng::Stream& rng) const;  // internal coordinates
  // Log density at internal x; for integers, the log probability of x's integer cell.
  double log_density(double x) const;

 private:
  ParamType type_;
  double a_ = 0, b_ = 0;  // internal bounds
  bool integer_ = false;
  std::vector<double> mu_, sigma_, weight_, mass_;  // mass_: each component's mass on [a, b]
  double total_weight_ = 0;
};

class ChoiceParzen {
 public:
  // `obs`: observed choice indices in [0, k); each choice also gets prior_weight / k.
  ChoiceParzen(size_t k, const std::vector<size_t>& obs, double prior_weight);
  size_t sample(rng::Stream& rng) const;
  double log_prob(size_t i) const;

 private:
  std::vector<double> weight_;
  double total_ = 0;
};

}  // namespace tabpilot
