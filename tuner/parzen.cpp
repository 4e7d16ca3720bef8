#include "tabpilot/tuner/parzen.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tabpilot {
namespace {

bool is_log(ParamType t) { return t == ParamType::kLogFloat || t == ParamType::kLogInt; }
bool is_integer(ParamType t) { return t == ParamType::kInt || t == ParamType::kLogInt; }

double phi_cdf(double z) { return 0.5 * std::erfc(-z * M_SQRT1_2); }

// The internal bounds: integers own [k - 0.5, k + 0.5].
std::pair<double, double> internal_bounds(const ParamSpec& s) {
  double lo = s.low, hi = s.high;
  if (is_integer(s.type)) lo = std::ceil(lo) - 0.5, hi = std::floor(hi) + 0.5;
  if (is_log(s.type)) return {std::log(std::max(lo, 1e-300)), std::log(std::max(hi, 1e-300))};
  return {lo, hi};
}

}  // namespace

double to_internal(const ParamSpec& spec, double value) {
  value = std::clamp(value, spec.low, spec.high);
  return is_log(spec.type) ? std::log(value) : value;
}

nlohmann::json from_internal(const ParamSpec& spec, double x) {
  double v = is_log(spec.type) ? std::exp(x) : x;
  if (is_integer(spec.type)) {
    double lo = std::ceil(spec.low), hi = std::floor(spec.high);
    return static_cast<int64_t>(std::clamp(std::round(v), lo, hi));
  }
  return std::clamp(v, spec.low, spec.high);
}

NumericParzen::NumericParzen(const ParamSpec& spec, const std::vector<double>& obs,
                             double prior_weight)
    : type_(spec.type), integer_(is_integer(spec.type)) {
  std::tie(a_, b_) = internal_bounds(spec);
  const double range = b_ - a_;
  if (!(range > 0)) return;  // a single value: nothing to model
  // Components sorted by centre, the prior among them, so that neighbours are adjacent.
  std::vector<std::pair<double, bool>> centres;  // (mu, is_prior)
  for (double x : obs) centres.push_back({std::clamp(x, a_, b_), false});
  centres.push_back({0.5 * (a_ + b_), true});
  std::sort(centres.begin(), centres.end());
  const double max_sigma = range;
  const double min_sigma = range / std::min(100.0, 1.0 + static_cast<double>(obs.size()));
  const size_t n = centres.size();
  for (size_t i = 0; i < n; ++i) {
    double mu = centres[i].first, sigma = max_sigma, w = prior_weight;
    if (!centres[i].second) {
      double left = i > 0 ? mu - centres[i - 1].first : 0;
      double right = i + 1 < n ? centres[i + 1].first - mu : 0;
      sigma = std::clamp(std::max(left, right), min_sigma, max_sigma);
      w = 1.0;
    }
    mu_.push_back(mu);
    sigma_.push_back(sigma);
    weight_.push_back(w);
    mass_.push_back(std::max(1e-12, phi_cdf((b_ - mu) / sigma) - phi_cdf((a_ - mu) / sigma)));
    total_weight_ += w;
  }
}

double NumericParzen::sample(rng::Stream& rng) const {
  if (mu_.empty()) return a_;
  double u = rng.uniform() * total_weight_;
  size_t i = 0;
  while (i + 1 < weight_.size() && u >= weight_[i]) u -= weight_[i++];
  // Rejection from the untruncated Gaussian: every component keeps at least ~16% of its mass
  // inside [a, b] (its centre lies inside and sigma <= range), so a few tries suffice.
  for (int attempt = 0; attempt < 64; ++attempt) {
    double x = mu_[i] + sigma_[i] * rng.normal();
    if (x >= a_ && x <= b_) return x;
  }
  return mu_[i];
}

double NumericParzen::log_density(double x) const {
  if (mu_.empty()) return 0;
  double sum = 0;
  if (integer_) {
    // The integer cell around x, in internal coordinates.
    double k = std::round(is_log(type_) ? std::exp(x) : x);
    double lo = k - 0.5, hi = k + 0.5;
    if (is_log(type_)) lo = std::log(std::max(lo, 1e-300)), hi = std::log(hi);
    lo = std::max(lo, a_), hi = std::min(hi, b_);
    for (size_t i = 0; i < mu_.size(); ++i)
      sum += weight_[i] *
             (phi_cdf((hi - mu_[i]) / sigma_[i]) - phi_cdf((lo - mu_[i]) / sigma_[i])) / mass_[i];
  } else {
    for (size_t i = 0; i < mu_.size(); ++i) {
      double z = (x - mu_[i]) / sigma_[i];
      sum += weight_[i] * std::exp(-0.5 * z * z) / (sigma_[i] * mass_[i]);
    }
    sum *= 0.3989422804014327;  // 1 / sqrt(2 pi)
  }
  return std::log(std::max(sum / total_weight_, 1e-300));
}

ChoiceParzen::ChoiceParzen(size_t k, const std::vector<size_t>& obs, double prior_weight)
    : weight_(k, k ? prior_weight / static_cast<double>(k) : 0.0) {
  for (size_t i : obs)
    if (i < k) weight_[i] += 1.0;
  total_ = std::accumulate(weight_.begin(), weight_.end(), 0.0);
}

size_t ChoiceParzen::sample(rng::Stream& rng) const {
  double u = rng.uniform() * total_;
  size_t i = 0;
  while (i + 1 < weight_.size() && u >= weight_[i]) u -= weight_[i++];
  return i;
}

double ChoiceParzen::log_prob(size_t i) const {
  return std::log(std::max(weight_.at(i) / total_, 1e-300));
}

}  // namespace tabpilot
