// Small dense linear algebra in double precision for closed-form fits (ridge normal
// equations): a Cholesky factorization and the matching triangular solves. Row-major.
#pragma once

namespace tabpilot {

// Factors the symmetric positive-definite a[n, n] in place: on success its lower triangle
// holds L with a = L L^T (the strict upper triangle is left untouched). Returns false, with a
// partly overwritten, when a pivot is not positive (a is not numerically positive definite).
bool cholesky_factor_cpu(double* a, int n);

// Solves L L^T x = b for one right-hand side, in place on b[n], given the factor from
// cholesky_factor_cpu.
void cholesky_solve_cpu(const double* l, double* b, int n);

}  // namespace tabpilot
