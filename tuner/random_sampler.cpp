#include "tabpilot/tuner/random_sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

// splitmix64: a well-mixed 64-bit hash, so nearby seeds give unrelated streams. Written out
// (not std::uniform_*_distribution) because the standard leaves those distributions'
// algorithms to the library, and a seed must give the same trial on every platform.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Uniform in [0, 1) with 53 random bits.
double unit(uint64_t seed, std::string_view name) {
  uint64_t bits = mix(mix(seed) ^ fnv1a(name));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

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
  for (const auto& spec : space.params) out[spec.name] = draw(spec, unit(seed, spec.name));
  for (const auto& [name, value] : space.fixed.items()) out[name] = value;
  return out;
}

// The registry lives here while random is the only sampler; it moves to sampler.cpp with the
// second one.
std::vector<std::string> sampler_names() { return {"random"}; }

std::unique_ptr<Sampler> make_sampler(std::string_view name) {
  if (name == "random") return std::make_unique<RandomSampler>();
  std::string known;
  for (const auto& n : sampler_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown sampler '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace tabpilot
