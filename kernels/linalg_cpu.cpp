#include "tabpilot/kernels/linalg_cpu.h"

#include <cmath>
#include <cstddef>

namespace tabpilot {

bool cholesky_factor_cpu(double* a, int n) {
  const size_t ld = static_cast<size_t>(n);
  for (int j = 0; j < n; ++j) {
    double* row_j = a + j * ld;
    double d = row_j[j];
    for (int k = 0; k < j; ++k) d -= row_j[k] * row_j[k];
    if (!(d > 0.0)) return false;  // also rejects NaN
    const double ljj = std::sqrt(d);
    row_j[j] = ljj;
    for (int i = j + 1; i < n; ++i) {
      double* row_i = a + i * ld;
      double s = row_i[j];
      for (int k = 0; k < j; ++k) s -= row_i[k] * row_j[k];
      row_i[j] = s / ljj;
    }
  }
  return true;
}

void cholesky_solve_cpu(const double* l, double* b, int n) {
  const size_t ld = static_cast<size_t>(n);
  for (int i = 0; i < n; ++i) {  // L y = b
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= l[i * ld + k] * b[k];
    b[i] = s / l[i * ld + i];
  }
  for (int i = n - 1; i >= 0; --i) {  // L^T x = y
    double s = b[i];
    for (int k = i + 1; k < n; ++k) s -= l[k * ld + i] * b[k];
    b[i] = s / l[i * ld + i];
  }
}

}  // namespace tabpilot
