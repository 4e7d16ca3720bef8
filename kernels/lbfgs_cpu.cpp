#include "tabpilot/kernels/lbfgs_cpu.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace tabpilot {
namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const std::vector<double>& a) {
  double m = 0.0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

LbfgsResult lbfgs_minimize_cpu(const GradientObjective& f, std::vector<double>& x, int max_iter,
                               double tol, const std::function<bool()>& should_stop) {
  constexpr int kMemory = 10;
  const size_t n = x.size();
  std::vector<double> g, g_new, dir(n), x_new(n), alpha(kMemory);
  std::vector<std::vector<double>> s_hist, y_hist;
  std::vector<double> rho_hist;
  LbfgsResult res;
  double fx = f(x, g);
  for (res.iterations = 0; res.iterations < max_iter; ++res.iterations) {
    if (max_abs(g) <= tol) {
      res.converged = true;
      break;
    }
    if (should_stop && should_stop()) break;
    // Two-loop recursion: dir = -H g.
    for (size_t i = 0; i < n; ++i) dir[i] = -g[i];
    const int m = static_cast<int>(s_hist.size());
    for (int j = m - 1; j >= 0; --j) {
      alpha[j] = rho_hist[j] * dot(s_hist[j], dir);
      for (size_t i = 0; i < n; ++i) dir[i] -= alpha[j] * y_hist[j][i];
    }
    if (m > 0) {
      const double gamma = dot(s_hist[m - 1], y_hist[m - 1]) / dot(y_hist[m - 1], y_hist[m - 1]);
      for (double& v : dir) v *= gamma;
    }
    for (int j = 0; j < m; ++j) {
      const double beta = rho_hist[j] * dot(y_hist[j], dir);
      for (size_t i = 0; i < n; ++i) dir[i] += (alpha[j] - beta) * s_hist[j][i];
    }
    double slope = dot(g, dir);
    if (!(slope < 0)) {  // lost descent (numerical trouble): restart from steepest descent
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      for (size_t i = 0; i < n; ++i) dir[i] = -g[i];
      slope = -dot(g, g);
    }
    double step = m == 0 ? std::min(1.0, 1.0 / std::sqrt(dot(g, g))) : 1.0;
    double f_new = 0.0;
    bool accepted = false;
    for (int tries = 0; tries < 40; ++tries, step *= 0.5) {
      for (size_t i = 0; i < n; ++i) x_new[i] = x[i] + step * dir[i];
      f_new = f(x_new, g_new);
      if (!std::isfinite(f_new)) continue;
      // Near the optimum f stops resolving the decrease in double; then accept on the
      // directional derivative instead (Hager and Zhang's approximate Wolfe conditions).
      const double dslope = dot(g_new, dir);
      const bool armijo = f_new <= fx + 1e-4 * step * slope;
      const bool approx_wolfe = f_new <= fx + 1e-10 * std::fabs(fx) && dslope >= 0.9 * slope &&
                                dslope <= (2 * 1e-4 - 1) * slope;
      if (armijo || approx_wolfe) {
        accepted = true;
        break;
      }
    }
    if (!accepted) break;  // at the optimum to machine precision
    std::vector<double> s(n), yv(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = x_new[i] - x[i];
      yv[i] = g_new[i] - g[i];
    }
    const double sy = dot(s, yv);
    if (sy > 1e-12 * std::sqrt(dot(s, s) * dot(yv, yv))) {
      if (static_cast<int>(s_hist.size()) == kMemory) {
        s_hist.erase(s_hist.begin()), y_hist.erase(y_hist.begin());
        rho_hist.erase(rho_hist.begin());
      }
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(yv));
      rho_hist.push_back(1.0 / sy);
    }
    x.swap(x_new);
    g.swap(g_new);
    fx = f_new;
  }
  if (!res.converged && max_abs(g) <= tol) res.converged = true;
  res.objective = fx;
  res.grad_max = max_abs(g);
  return res;
}

}  // namespace tabpilot
