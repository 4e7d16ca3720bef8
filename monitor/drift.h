// Deequ's distribution distances (contract 5.4): the L-infinity distance between two
// empirical CDFs read from KLL sketches (numeric) or between normalised category counts
// (categorical), and the "Robust" variant that subtracts the two-sample Kolmogorov-Smirnov
// critical value 1.8 * sqrt((n + m) / (n * m)) so small samples do not look like drift.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "tabpilot/monitor/kll_sketch.h"

namespace tabpilot::monitor {

// max over the union of both sketches' items x of |cdf_a(x) - cdf_b(x)|; 0 if either is empty.
double linf_numeric(const KllSketch& a, const KllSketch& b);
// max over the union of keys of |count_a(v) / n_a - count_b(v) / n_b| (absent key = 0); the
// totals are passed so that a truncated list of values is normalised by the full count.
double linf_categorical(const std::map<std::string, size_t>& a, uint64_t n_a,
                        const std::map<std::string, size_t>& b, uint64_t n_b);
// max(0, linf - 1.8 * sqrt((n + m) / (n * m))); `linf` itself when n or m is 0.
double linf_robust(double linf, uint64_t n, uint64_t m);

}  // namespace tabpilot::monitor
