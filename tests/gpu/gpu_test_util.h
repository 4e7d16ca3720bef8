// Shared by the GPU tests: skip without a device, upload/download helpers, and comparisons with
// stated tolerances against the CPU twins.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "tabpilot/cuda/device.h"
#include "tabpilot/cuda/memory_pool.h"
#include "tabpilot/cuda/stream.h"

// GPU tests report SKIPPED (never passed) on a build or machine without CUDA.
#define TABPILOT_REQUIRE_GPU()                                                      \
  do {                                                                              \
    if (!::tabpilot::cuda_compiled()) GTEST_SKIP() << "built without -DTABPILOT_CUDA=ON"; \
    if (::tabpilot::cuda_devices().empty()) GTEST_SKIP() << "no CUDA device visible"; \
  } while (0)

namespace tabpilot::testing {

inline Device gpu0() { return Device::cuda(0); }

template <typename T>
DeviceBuffer<T> upload(const std::vector<T>& host, const Stream& s) {
  return DeviceBuffer<T>::from_host(host, s.device(), s.handle());
}

// Bit-identical floats (NaN equals NaN only with the same bits).
inline void expect_bitwise_equal(const std::vector<float>& gpu, const std::vector<float>& cpu,
                                 const char* what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, &gpu[i], 4);
    std::memcpy(&b, &cpu[i], 4);
    if (a != b && !(std::isnan(gpu[i]) && std::isnan(cpu[i]))) {
      if (bad++ == 0) first = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": first mismatch at " << first << ": gpu " << gpu[first]
                     << " cpu " << cpu[first];
}

// |gpu - cpu| <= abs_tol + rel_tol * |cpu| everywhere; NaN must match NaN.
inline void expect_near_all(const std::vector<float>& gpu, const std::vector<float>& cpu,
                            double abs_tol, double rel_tol, const char* what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  size_t bad = 0, first = 0;
  double worst = 0.0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    if (std::isnan(cpu[i]) || std::isnan(gpu[i])) {
      if (std::isnan(cpu[i]) != std::isnan(gpu[i]) && bad++ == 0) first = i;
      continue;
    }
    const double err = std::fabs(double(gpu[i]) - cpu[i]);
    worst = std::max(worst, err);
    if (err > abs_tol + rel_tol * std::fabs(cpu[i]) && bad++ == 0) first = i;
  }
  EXPECT_EQ(bad, 0u) << what << ": first mismatch at " << first << ": gpu " << gpu[first]
                     << " cpu " << cpu[first] << " (worst abs error " << worst << ")";
}

inline std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -2.0f,
                                        float hi = 2.0f, double nan_fraction = 0.0) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::bernoulli_distribution missing(nan_fraction);
  std::vector<float> v(n);
  for (auto& x : v) x = missing(rng) ? NAN : u(rng);
  return v;
}

}  // namespace tabpilot::testing
