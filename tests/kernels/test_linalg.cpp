// Cholesky factor and solve against hand-built systems with known solutions.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tabpilot/kernels/linalg_cpu.h"

namespace tabpilot {
namespace {

TEST(Linalg, CholeskyFactorOfHandBuiltMatrix) {
  // L = [[2,0,0],[1,3,0],[-1,2,1]] gives A = L L^T below.
  std::vector<double> a = {4, 2, -2, 2, 10, 5, -2, 5, 6};
  ASSERT_TRUE(cholesky_factor_cpu(a.data(), 3));
  EXPECT_DOUBLE_EQ(a[0], 2);
  EXPECT_DOUBLE_EQ(a[3], 1);
  EXPECT_DOUBLE_EQ(a[4], 3);
  EXPECT_DOUBLE_EQ(a[6], -1);
  EXPECT_DOUBLE_EQ(a[7], 2);
  EXPECT_DOUBLE_EQ(a[8], 1);
}

TEST(Linalg, CholeskySolveRecoversKnownSolution) {
  std::vector<double> a = {4, 2, -2, 2, 10, 5, -2, 5, 6};
  const std::vector<double> x = {1.5, -2.0, 0.25};
  std::vector<double> b(3, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) b[i] += a[i * 3 + j] * x[j];
  ASSERT_TRUE(cholesky_factor_cpu(a.data(), 3));
  cholesky_solve_cpu(a.data(), b.data(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(b[i], x[i], 1e-12);
}

TEST(Linalg, CholeskyRejectsIndefiniteAndNaN) {
  std::vector<double> a = {1, 2, 2, 1};  // eigenvalues 3 and -1
  EXPECT_FALSE(cholesky_factor_cpu(a.data(), 2));
  std::vector<double> b = {NAN, 0, 0, 1};
  EXPECT_FALSE(cholesky_factor_cpu(b.data(), 2));
}

}  // namespace
}  // namespace tabpilot
