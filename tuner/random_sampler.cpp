#include "tabpilot/tuner/random_sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tabpilot/tuner/rng.h"

namespace tabpilot {
namespace {

nlohmann::json draw(const ParamSpec& spec, double u) {
  switch (spec.type) {
    case ParamType::kFloat:
      return std::clamp(spec.low + u * (spec.high - spec.low), spec.low, spec.high);
    case ParamType::kLogFloat: {
      if (!(spec.low > 0))
        throw std::invalid_argument("log parameter '" + spec.name + "' needs low > 0");
      double l = std::log(spec.low), h = std::log(spec.high);
      return std::clamp(std::exp(l + u * (h - l)), spec.low, spec.high);
    }
    case ParamType::kInt: {
      double lo = std::ceil(spec.low), hi = std::floor(spec.high);
      double v = std::floor(lo + u * (hi - lo + 1));
      return static_cast<int64_t>(std::clamp(v, lo, hi));
    }
    case ParamType::kLogInt: {
      // Log-uniform over [lo - 0.5, hi + 0.5], then rounded: each integer k gets the mass of
      // [k - 0.5, k + 0.5) on the log scale, so the ends are not under-weighted.
      double lo = std::ceil(spec.low), hi = std::floor(spec.high);
      if (lo < 1)
        throw std::invalid_argument("log-int parameter '" + spec.name + "' needs low >= 1");
      double l = std::log(lo - 0.5), h = std::log(hi + 0.5);
      double v = std::round(std::exp(l + u * (h - l)));
      return static_cast<int64_t>(std::clamp(v, lo, hi));
    }
    case ParamType::kChoice: {
      if (spec.choices.empty())
        throw std::invalid_argument("choice parameter '" + spec.name + "' has no choices");
      auto n = spec.choices.size();
      return spec.choices[std::min(n - 1, static_cast<size_t>(u * static_cast<double>(n)))];
    }
  }
  throw std::invalid_argument("parameter '" + spec.name + "' has an unknown type");
}

}  // namespace

Params RandomSampler::sample(const SearchSpace& space, const std::vector<TrialRecord>&,
                             uint64_t seed) const {
  Params out = Params::object();
  for (const auto& spec : space.params) out[spec.name] = draw(spec, rng::unit(seed, spec.name));
  for (const auto& [name, value] : space.fixed.items()) out[name] = value;
  return out;
}

}  // namespace tabpilot
