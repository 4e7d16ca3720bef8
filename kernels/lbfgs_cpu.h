// A deterministic L-BFGS minimizer in double precision for smooth convex objectives (the
// linear learner's logistic losses). The caller's objective computes f and its gradient.
#pragma once
#include <functional>
#include <vector>

namespace tabpilot {

// Returns f(x) and writes its gradient into grad (resized by the callee as needed).
using GradientObjective =
    std::function<double(const std::vector<double>& x, std::vector<double>& grad)>;

struct LbfgsResult {
  int iterations = 0;
  bool converged = false;  // |grad|_inf <= tol
  double objective = 0.0, grad_max = 0.0;
};

// Minimizes f from x (updated in place): two-loop recursion with memory 10 and a backtracking
// line search (Armijo, or approximate Wolfe where f no longer resolves the decrease). Stops at
// |grad|_inf <= tol, when no step decreases f (optimum reached to machine precision), after
// max_iter iterations, or when should_stop() (polled once per iteration; may be empty) returns
// true.
LbfgsResult lbfgs_minimize_cpu(const GradientObjective& f, std::vector<double>& x, int max_iter,
                               double tol, const std::function<bool()>& should_stop);

}  // namespace tabpilot
