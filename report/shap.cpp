#include "tabpilot/report/shap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

// The pipeline's feature columns of `t`, in the pipeline's order.
Table select_features(const Table& t, const std::vector<std::string>& features) {
  Table out;
  out.num_rows = t.num_rows;
  for (const auto& f : features) out.columns.push_back(t.at(f));
  return out;
}

// Class indices whose probability Kernel SHAP explains.
std::vector<int> explained_outputs(const Pipeline& p) {
  if (p.task == Task::kRegression) return {0};
  if (p.task == Task::kBinary) return {1};
  std::vector<int> out(static_cast<size_t>(p.num_classes()));
  std::iota(out.begin(), out.end(), 0);
  return out;
}

std::vector<std::string> output_names(const Pipeline& p) {
  if (p.task == Task::kRegression) return {"value"};
  if (p.task == Task::kBinary) return {p.labels.at(1)};
  return p.labels;
}

double binomial(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// Solves A x = b (n x n, symmetric positive semi-definite) by Gaussian elimination with
// partial pivoting after a tiny ridge, which only matters for rank-deficient samples.
std::vector<double> solve(std::vector<double> a, std::vector<double> b, size_t n) {
  double trace = 0;
  for (size_t i = 0; i < n; ++i) trace += a[i * n + i];
  const double ridge = 1e-10 * (trace > 0 ? trace / n : 1.0);
  for (size_t i = 0; i < n; ++i) a[i * n + i] += ridge;
  for (size_t c = 0; c < n; ++c) {
    size_t piv = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[piv * n + c])) piv = r;
    if (piv != c) {
      for (size_t k = 0; k < n; ++k) std::swap(a[c * n + k], a[piv * n + k]);
      std::swap(b[c], b[piv]);
    }
    const double d = a[c * n + c];
    if (d == 0) continue;
    for (size_t r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / d;
      if (f == 0) continue;
      for (size_t k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n, 0.0);
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[i * n + k] * x[k];
    x[i] = a[i * n + i] != 0 ? s / a[i * n + i] : 0.0;
  }
  return x;
}

}  // namespace

std::vector<double> ShapExplanation::global_mean_abs(size_t o) const {
  std::vector<double> g(features.size(), 0.0);
  if (rows == 0) return g;
  for (size_t r = 0; r < rows; ++r)
    for (size_t f = 0; f < features.size(); ++f) g[f] += std::fabs(value(r, o, f));
  for (double& v : g) v /= static_cast<double>(rows);
  return g;
}

Coalitions shap_coalitions(int m, int samples, uint64_t seed) {
  Coalitions c;
  c.m = m;
  if (m <= 1) {
    c.exhaustive = true;
    return c;
  }
  const auto um = static_cast<size_t>(m);
  if (m < 30 && (1LL << m) - 2 <= std::max(samples, 2)) {
    c.exhaustive = true;
    for (long long bits = 1; bits < (1LL << m) - 1; ++bits) {
      int s = 0;
      for (int j = 0; j < m; ++j) {
        const bool in = (bits >> j) & 1;
        c.masks.push_back(in);
        s += in;
      }
      c.weights.push_back((m - 1) / (binomial(m, s) * s * (m - s)));
    }
    return c;
  }
  // Sizes drawn in proportion to the kernel's total weight per size, (m-1)/(s(m-s)); each
  // draw adds a coalition and its complement (paired sampling halves the variance).
  std::vector<double> size_w(um - 1);
  for (int s = 1; s < m; ++s) size_w[static_cast<size_t>(s - 1)] = 1.0 / (s * double(m - s));
  std::discrete_distribution<int> size_dist(size_w.begin(), size_w.end());
  std::mt19937_64 rng(seed ^ 0x5a5a5a5aULL);
  std::vector<int> order(um);
  const int pairs = std::max(1, samples / 2);
  for (int p = 0; p < pairs; ++p) {
    const int s = size_dist(rng) + 1;
    std::iota(order.begin(), order.end(), 0);
    for (int i = 0; i < s; ++i) {
      std::uniform_int_distribution<int> pick(i, m - 1);
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(pick(rng))]);
    }
    std::vector<uint8_t> mask(um, 0);
    for (int i = 0; i < s; ++i) mask[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
    c.masks.insert(c.masks.end(), mask.begin(), mask.end());
    for (auto& b : mask) b = !b;
    c.masks.insert(c.masks.end(), mask.begin(), mask.end());
    c.weights.push_back(1.0);
    c.weights.push_back(1.0);
  }
  return c;
}

std::vector<double> solve_kernel_shap(const Coalitions& c, const std::vector<double>& v, double fx,
                                      double e0) {
  const int m = c.m;
  if (m <= 0) return {};
  const double d = fx - e0;
  if (m == 1) return {d};
  // phi_last = d - sum(phi_j): regress v - e0 - z_last d on (z_j - z_last), j < m-1.
  const size_t n = static_cast<size_t>(m - 1), um = static_cast<size_t>(m);
  std::vector<double> a(n * n, 0.0), b(n, 0.0), x(n);
  for (size_t k = 0; k < c.count(); ++k) {
    const uint8_t* z = &c.masks[k * um];
    const double w = c.weights[k];
    const double y = v[k] - e0 - z[um - 1] * d;
    for (size_t j = 0; j < n; ++j) x[j] = double(z[j]) - double(z[um - 1]);
    for (size_t i = 0; i < n; ++i) {
      if (x[i] == 0) continue;
      b[i] += w * x[i] * y;
      for (size_t j = 0; j < n; ++j) a[i * n + j] += w * x[i] * x[j];
    }
  }
  std::vector<double> phi = solve(std::move(a), std::move(b), n);
  phi.push_back(d - std::accumulate(phi.begin(), phi.end(), 0.0));
  return phi;
}

Table concat_tables(const Table& a, const Table& b) {
  Table out;
  out.num_rows = a.num_rows + b.num_rows;
  for (const Column& ca : a.columns) {
    const Column& cb = b.at(ca.name);
    if (cb.type != ca.type)
      throw InputError("column '" + ca.name + "' is " + std::string(to_string(cb.type)) +
                       ", expected " + std::string(to_string(ca.type)));
    Column c;
    c.name = ca.name;
    c.type = ca.type;
    switch (ca.type) {
      case ColumnType::kNumeric:
        c.numeric = ca.numeric;
        c.numeric.insert(c.numeric.end(), cb.numeric.begin(), cb.numeric.end());
        break;
      case ColumnType::kCategorical: {
        c.categories = ca.categories;
        c.codes = ca.codes;
        std::map<std::string, int32_t> index;
        for (size_t i = 0; i < c.categories.size(); ++i)
          index[c.categories[i]] = static_cast<int32_t>(i);
        std::vector<int32_t> remap(cb.categories.size());
        for (size_t i = 0; i < cb.categories.size(); ++i) {
          auto [it, added] = index.emplace(cb.categories[i], static_cast<int32_t>(c.categories.size()));
          if (added) c.categories.push_back(cb.categories[i]);
          remap[i] = it->second;
        }
        for (int32_t code : cb.codes) c.codes.push_back(code < 0 ? -1 : remap[static_cast<size_t>(code)]);
        break;
      }
      case ColumnType::kText:
      case ColumnType::kIdLike:
        c.text = ca.text;
        c.text.insert(c.text.end(), cb.text.begin(), cb.text.end());
        c.text_missing = ca.text_missing;
        c.text_missing.insert(c.text_missing.end(), cb.text_missing.begin(), cb.text_missing.end());
        break;
      case ColumnType::kDatetime:
        c.epoch_seconds = ca.epoch_seconds;
        c.epoch_seconds.insert(c.epoch_seconds.end(), cb.epoch_seconds.begin(),
                               cb.epoch_seconds.end());
        break;
    }
    out.columns.push_back(std::move(c));
  }
  return out;
}

Table kmeans_background(const Pipeline& p, const Table& train, int k, uint64_t seed,
                        std::vector<double>& weights) {
  if (p.members.empty()) throw std::logic_error("kmeans_background: pipeline has no members");
  std::mt19937_64 rng(seed ^ 0x6b6d65616e73ULL);
  std::vector<size_t> sample(train.num_rows);
  std::iota(sample.begin(), sample.end(), size_t{0});
  constexpr size_t kMaxRows = 2000;
  if (sample.size() > kMaxRows) {
    std::shuffle(sample.begin(), sample.end(), rng);
    sample.resize(kMaxRows);
    std::sort(sample.begin(), sample.end());
  }
  const size_t n = sample.size();
  if (n == 0) throw InputError("no training rows for the SHAP background");
  Matrix x = p.members[0].transform.transform(train, &sample);
  const size_t d = x.cols();
  for (size_t j = 0; j < d; ++j) {  // standardise, missing -> the mean
    double s = 0, ss = 0, cnt = 0;
    for (size_t r = 0; r < n; ++r)
      if (float v = x.row(r)[j]; !std::isnan(v)) s += v, ss += double(v) * v, cnt += 1;
    const double mean = cnt > 0 ? s / cnt : 0;
    const double sd = cnt > 0 ? std::sqrt(std::max(0.0, ss / cnt - mean * mean)) : 0;
    for (size_t r = 0; r < n; ++r) {
      float& v = x.row(r)[j];
      v = std::isnan(v) ? 0.0f : static_cast<float>(sd > 1e-12 ? (v - mean) / sd : 0.0);
    }
  }
  auto dist = [&](const float* a, const std::vector<double>& c) {
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += (a[j] - c[j]) * (a[j] - c[j]);
    return s;
  };
  const size_t kk = std::min(static_cast<size_t>(std::max(k, 1)), n);
  // k-means++ seeding.
  std::vector<std::vector<double>> centres;
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  size_t first = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  centres.emplace_back(x.row(first), x.row(first) + d);
  while (centres.size() < kk) {
    for (size_t r = 0; r < n; ++r) nearest[r] = std::min(nearest[r], dist(x.row(r), centres.back()));
    const double total = std::accumulate(nearest.begin(), nearest.end(), 0.0);
    size_t pick = 0;
    if (total > 0) {
      double u = std::uniform_real_distribution<double>(0, total)(rng);
      while (pick + 1 < n && (u -= nearest[pick]) > 0) ++pick;
    } else {
      pick = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
    }
    centres.emplace_back(x.row(pick), x.row(pick) + d);
  }
  std::vector<size_t> assign(n, 0);
  for (int iter = 0; iter < 25; ++iter) {
    bool changed = false;
    for (size_t r = 0; r < n; ++r) {
      size_t best = 0;
      double bd = std::numeric_limits<double>::infinity();
      for (size_t c = 0; c < kk; ++c)
        if (double dd = dist(x.row(r), centres[c]); dd < bd) bd = dd, best = c;
      if (assign[r] != best || iter == 0) {
        changed = true;
        assign[r] = best;
      }
    }
    std::vector<double> count(kk, 0.0);
    for (auto& c : centres) std::fill(c.begin(), c.end(), 0.0);
    for (size_t r = 0; r < n; ++r) {
      count[assign[r]] += 1;
      for (size_t j = 0; j < d; ++j) centres[assign[r]][j] += x.row(r)[j];
    }
    for (size_t c = 0; c < kk; ++c)
      if (count[c] > 0)
        for (double& v : centres[c]) v /= count[c];
    if (!changed) break;
  }
  std::vector<size_t> chosen;
  weights.clear();
  for (size_t c = 0; c < kk; ++c) {
    size_t best = n, size = 0;
    double bd = std::numeric_limits<double>::infinity();
    for (size_t r = 0; r < n; ++r) {
      if (assign[r] != c) continue;
      ++size;
      if (double dd = dist(x.row(r), centres[c]); dd < bd) bd = dd, best = r;
    }
    if (size == 0) continue;
    chosen.push_back(sample[best]);
    weights.push_back(static_cast<double>(size));
  }
  return select_features(train.take(chosen), p.features);
}

ShapExplanation kernel_shap(const Pipeline& p, const Table& rows_in, const Table& background_in,
                            const std::vector<double>& bw, const KernelShapOptions& options) {
  const Table rows = select_features(rows_in, p.features);
  const Table background = select_features(background_in, p.features);
  const size_t nb = background.num_rows;
  if (nb == 0 || bw.size() != nb) throw std::invalid_argument("kernel_shap: bad background");
  const Table pool = concat_tables(background, rows);
  const std::vector<int> outs = explained_outputs(p);
  const size_t width = static_cast<size_t>(p.num_classes()), no = outs.size();
  const size_t m = p.features.size();
  const double wsum = std::accumulate(bw.begin(), bw.end(), 0.0);

  ShapExplanation e;
  e.method = "kernel_shap";
  e.output_space = p.task == Task::kRegression ? "value" : "probability";
  e.features = p.features;
  e.outputs = output_names(p);
  e.rows = rows.num_rows;
  e.values.assign(e.rows * no * m, 0.0);

  std::vector<double> base(no, 0.0);
  const std::vector<float> pb = p.predict(background);
  for (size_t b = 0; b < nb; ++b)
    for (size_t o = 0; o < no; ++o) base[o] += bw[b] * pb[b * width + static_cast<size_t>(outs[o])] / wsum;
  const std::vector<float> px = p.predict(rows);

  const Coalitions c = shap_coalitions(static_cast<int>(m), options.samples, options.seed);
  const size_t nc = c.count();
  std::vector<size_t> idx(nc * nb);
  std::vector<double> v(nc);
  for (size_t i = 0; i < e.rows; ++i) {
    if (i > 0 && options.deadline && std::chrono::steady_clock::now() > *options.deadline) {
      e.rows = i;
      e.values.resize(e.rows * no * m);
      break;
    }
    std::vector<float> pred;
    if (nc > 0) {
      Table t;
      t.num_rows = nc * nb;
      for (size_t j = 0; j < m; ++j) {
        for (size_t k = 0; k < nc; ++k)
          for (size_t b = 0; b < nb; ++b) idx[k * nb + b] = c.masks[k * m + j] ? nb + i : b;
        t.columns.push_back(pool.columns[j].take(idx));
      }
      pred = p.predict(t);
    }
    for (size_t o = 0; o < no; ++o) {
      const size_t col = static_cast<size_t>(outs[o]);
      for (size_t k = 0; k < nc; ++k) {
        double s = 0;
        for (size_t b = 0; b < nb; ++b) s += bw[b] * pred[(k * nb + b) * width + col];
        v[k] = s / wsum;
      }
      const double fx = px[i * width + col];
      const std::vector<double> phi = solve_kernel_shap(c, v, fx, base[o]);
      std::copy(phi.begin(), phi.end(), e.values.begin() + static_cast<long>((i * no + o) * m));
      e.expected.push_back(base[o]);
      e.prediction.push_back(fx);
    }
  }
  return e;
}

double kernel_shap_solve_seconds(size_t columns, int samples, size_t outputs) {
  const double m = static_cast<double>(columns);
  const double coalitions = m < 30 ? std::min(std::pow(2.0, m) - 2, double(samples)) : samples;
  const double flops = static_cast<double>(outputs) * (coalitions * m * m + m * m * m / 3);
  return flops / 0.5e9;
}

bool has_exact_shap(const Pipeline& p) {
  if (p.members.empty()) return false;
  if (p.task != Task::kRegression && p.members.size() != 1) return false;
  for (const auto& m : p.members) {
    if (!m.learner) return false;
    // Probe with one row of the right width: learners without exact values say false.
    Matrix probe(1, m.transform.width(), 0.0f);
    std::vector<float> out;
    if (!m.learner->contributions(probe.view(), out)) return false;
  }
  return true;
}

ShapExplanation exact_shap(const Pipeline& p, const Table& rows) {
  if (!has_exact_shap(p)) throw std::logic_error("exact_shap: the pipeline has no exact SHAP");
  const size_t m = p.features.size();
  const size_t no = p.task == Task::kMulticlass ? static_cast<size_t>(p.num_classes()) : 1;
  ShapExplanation e;
  e.features = p.features;
  e.outputs = output_names(p);
  e.output_space = p.task == Task::kRegression ? "value"
                   : p.task == Task::kBinary   ? "log_odds"
                                               : "margin";
  e.rows = rows.num_rows;
  e.values.assign(e.rows * no * m, 0.0);
  e.expected.assign(e.rows * no, 0.0);
  std::map<std::string, size_t> feature_index;
  for (size_t f = 0; f < m; ++f) feature_index[p.features[f]] = f;
  const std::vector<double> shares = p.member_shares();
  std::string learner;
  for (size_t k = 0; k < p.members.size(); ++k) {
    const auto& mem = p.members[k];
    learner = k == 0 ? mem.learner_name : (learner == mem.learner_name ? learner : "mixed");
    Matrix x = mem.transform.transform(rows);
    std::vector<float> out;
    mem.learner->contributions(x.view(), out);
    const size_t cols = x.cols(), width = cols + 1;
    const auto& sources = mem.transform.output_sources();
    std::vector<size_t> to_feature(cols);
    for (size_t j = 0; j < cols; ++j) {
      auto it = feature_index.find(sources.at(j));
      if (it == feature_index.end())
        throw std::runtime_error("derived feature " + std::to_string(j) + " comes from '" +
                                 sources[j] + "', which is not an input column");
      to_feature[j] = it->second;
    }
    for (size_t r = 0; r < e.rows; ++r)
      for (size_t o = 0; o < no; ++o) {
        const float* phi = out.data() + (r * no + o) * width;
        double* dst = e.values.data() + (r * no + o) * m;
        for (size_t j = 0; j < cols; ++j) dst[to_feature[j]] += shares[k] * phi[j];
        e.expected[r * no + o] += shares[k] * phi[cols];
      }
  }
  // One learner's own method ("tree_shap", "linear_shap"); several learners: "exact_shap".
  const ShapMethod method = learner == "mixed" ? ShapMethod::kNone : learner_info(learner).shap;
  e.method = method == ShapMethod::kNone ? "exact_shap" : std::string(to_string(method));
  e.prediction.resize(e.rows * no);
  for (size_t i = 0; i < e.rows * no; ++i) {
    double s = e.expected[i];
    for (size_t f = 0; f < m; ++f) s += e.values[i * m + f];
    e.prediction[i] = s;
  }
  return e;
}

}  // namespace tabpilot
