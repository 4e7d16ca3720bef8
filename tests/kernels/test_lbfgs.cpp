// L-BFGS against minimizers known in closed form: a quadratic and the Rosenbrock valley.
#include <gtest/gtest.h>

#include <vector>

#include "tabpilot/kernels/lbfgs_cpu.h"

namespace tabpilot {
namespace {

TEST(Lbfgs, MinimizesQuadraticToItsKnownSolution) {
  // f = 0.5 x'Ax - b'x with b = A x*, so the minimizer is x*.
  const std::vector<double> a = {4, 2, -2, 2, 10, 5, -2, 5, 6}, xstar = {1.5, -2.0, 0.25};
  std::vector<double> b(3, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) b[i] += a[i * 3 + j] * xstar[j];
  auto f = [&](const std::vector<double>& x, std::vector<double>& g) {
    g.assign(3, 0.0);
    double v = 0;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) g[i] += a[i * 3 + j] * x[j];
      v += 0.5 * x[i] * g[i] - b[i] * x[i];
      g[i] -= b[i];
    }
    return v;
  };
  std::vector<double> x(3, 0.0);
  LbfgsResult r = lbfgs_minimize_cpu(f, x, 100, 1e-10, {});
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.grad_max, 1e-10);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(x[i], xstar[i], 1e-9);
}

TEST(Lbfgs, FollowsTheRosenbrockValley) {
  auto f = [](const std::vector<double>& x, std::vector<double>& g) {
    const double u = 1 - x[0], w = x[1] - x[0] * x[0];
    g = {-2 * u - 400 * x[0] * w, 200 * w};
    return u * u + 100 * w * w;
  };
  std::vector<double> x = {-1.2, 1.0};
  LbfgsResult r = lbfgs_minimize_cpu(f, x, 500, 1e-8, {});
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(x[0], 1.0, 1e-6);
  EXPECT_NEAR(x[1], 1.0, 1e-6);
  EXPECT_GT(r.iterations, 10);
}

TEST(Lbfgs, StopsWhenAsked) {
  int calls = 0;
  auto f = [&](const std::vector<double>& x, std::vector<double>& g) {
    ++calls;
    g = {2 * (x[0] - 3)};
    return (x[0] - 3) * (x[0] - 3);
  };
  std::vector<double> x = {0.0};
  LbfgsResult r = lbfgs_minimize_cpu(f, x, 100, 1e-12, [] { return true; });
  EXPECT_EQ(r.iterations, 0);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(x[0], 0.0);
}

}  // namespace
}  // namespace tabpilot
