#include "tabpilot/report/column_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <unordered_map>

#include "tabpilot/common/text.h"
#include "tabpilot/report/svg.h"

namespace tabpilot::report {
namespace {

// Numeric view of a column for binning (NaN = missing): value, epoch, or text length.
std::vector<double> as_numbers(const Column& c, const std::vector<size_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (size_t r : rows) {
    if (c.is_missing(r)) {
      out.push_back(NAN);
      continue;
    }
    switch (c.type) {
      case ColumnType::kNumeric: out.push_back(c.numeric[r]); break;
      case ColumnType::kDatetime: out.push_back(c.epoch_seconds[r]); break;
      case ColumnType::kCategorical: out.push_back(c.codes[r]); break;
      default: out.push_back(static_cast<double>(c.text[r].size()));
    }
  }
  return out;
}

// Bin index per row: 0 = missing, then value bins.
std::vector<int> bin_rows(const Column& c, const std::vector<size_t>& rows) {
  std::vector<int> bins(rows.size(), 0);
  if (c.type == ColumnType::kCategorical) {
    std::vector<size_t> count(c.categories.size(), 0);
    for (size_t r : rows)
      if (c.codes[r] >= 0) count[static_cast<size_t>(c.codes[r])]++;
    std::vector<size_t> order(count.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return count[a] > count[b]; });
    std::vector<int> bin_of(count.size(), 21);  // 21: all the rarer categories together
    for (size_t i = 0; i < order.size() && i < 20; ++i) bin_of[order[i]] = static_cast<int>(i) + 1;
    for (size_t i = 0; i < rows.size(); ++i)
      if (c.codes[rows[i]] >= 0) bins[i] = bin_of[static_cast<size_t>(c.codes[rows[i]])];
    return bins;
  }
  const std::vector<double> x = as_numbers(c, rows);
  std::vector<double> sorted;
  for (double v : x)
    if (!std::isnan(v)) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) return bins;
  std::vector<double> cuts;  // up to 10 quantile bins; ties collapse
  for (int q = 1; q < 10; ++q) {
    const double v = sorted[sorted.size() * q / 10];
    if (cuts.empty() || v > cuts.back()) cuts.push_back(v);
  }
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isnan(x[i]))
      bins[i] = 1 + static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), x[i]) - cuts.begin());
  return bins;
}

// maxz[i] = max(maxz[i], |x[i] - mean| / sd) over the present values of one column.
void accumulate_max_z(const std::vector<double>& x, std::vector<double>& maxz) {
  double s = 0, ss = 0, n = 0;
  for (double v : x)
    if (!std::isnan(v)) s += v, ss += v * v, n += 1;
  if (n < 2) return;
  const double mean = s / n, sd = std::sqrt(std::max(0.0, ss / n - mean * mean));
  if (!(sd > 0)) return;
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isnan(x[i])) maxz[i] = std::max(maxz[i], std::fabs(x[i] - mean) / sd);
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double n = 0, sa = 0, sb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (!std::isnan(a[i]) && !std::isnan(b[i])) n += 1, sa += a[i], sb += b[i];
  if (n < 3) return NAN;
  const double ma = sa / n, mb = sb / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (!std::isnan(a[i]) && !std::isnan(b[i])) {
      sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : NAN;
}

}  // namespace

double prediction_power(const Column& feature, const Column& target, Task task,
                        const std::vector<size_t>& rows_in) {
  std::vector<size_t> rows;  // rows with a target
  for (size_t r : rows_in)
    if (!target.is_missing(r)) rows.push_back(r);
  if (rows.size() < 4) return 0;
  const std::vector<int> bins = bin_rows(feature, rows);
  const int nbins = *std::max_element(bins.begin(), bins.end()) + 1;
  // Classification target as class index; regression as value.
  std::vector<double> y;
  int k = 1;
  if (is_classification(task)) {
    std::map<std::string, int> cls;
    for (size_t r : rows) cls.emplace(target.value_string(r), 0);
    int i = 0;
    for (auto& [label, idx] : cls) idx = i++;
    k = i;
    for (size_t r : rows) y.push_back(cls[target.value_string(r)]);
  } else {
    for (size_t r : rows) y.push_back(target.type == ColumnType::kNumeric ? target.numeric[r] : 0.0);
  }
  double score = 0;
  for (int half = 0; half < 2; ++half) {  // fit on even rows, score on odd, then swap
    const int kk = is_classification(task) ? k : 1;
    std::vector<double> sum(static_cast<size_t>(nbins * kk), 0.0), cnt(static_cast<size_t>(nbins), 0.0);
    std::vector<double> prior(static_cast<size_t>(kk), 0.0);
    double prior_n = 0;
    for (size_t i = half; i < rows.size(); i += 2) {
      const auto b = static_cast<size_t>(bins[i]);
      cnt[b] += 1, prior_n += 1;
      if (kk > 1) sum[b * kk + static_cast<size_t>(y[i])] += 1, prior[static_cast<size_t>(y[i])] += 1;
      else sum[b] += y[i], prior[0] += y[i];
    }
    for (double& p : prior) p /= std::max(prior_n, 1.0);
    double err = 0, base = 0;
    for (size_t i = 1 - half; i < rows.size(); i += 2) {
      const auto b = static_cast<size_t>(bins[i]);
      for (int c = 0; c < kk; ++c) {
        // Bin estimate shrunk towards the prior by one pseudo-row, so tiny bins do not overfit.
        const double est = (sum[b * kk + c] + prior[static_cast<size_t>(c)]) / (cnt[b] + 1);
        const double truth = kk > 1 ? (y[i] == c ? 1.0 : 0.0) : y[i];
        err += (truth - est) * (truth - est);
        base += (truth - prior[static_cast<size_t>(c)]) * (truth - prior[static_cast<size_t>(c)]);
      }
    }
    score += base > 0 ? 1 - err / base : 0;
  }
  return std::clamp(score / 2, 0.0, 1.0);
}

DatasetAnalysis analyse_dataset(const Table& table, const std::string& target, Task task,
                                size_t max_rows, uint64_t seed) {
  DatasetAnalysis a;
  a.rows_total = table.num_rows;
  std::vector<size_t> rows(table.num_rows);
  std::iota(rows.begin(), rows.end(), size_t{0});
  if (rows.size() > max_rows) {
    std::mt19937_64 rng(seed ^ 0x646174ULL);
    std::shuffle(rows.begin(), rows.end(), rng);
    rows.resize(max_rows);
    std::sort(rows.begin(), rows.end());
    a.sampled = true;
  }
  a.rows_analysed = rows.size();
  const int ti = table.find(target);
  // Anomaly scores: the largest |z| of each analysed row over the numeric feature columns,
  // accumulated column by column (no copy of every numeric column is kept).
  std::vector<double> maxz(rows.size(), 0.0);
  std::vector<size_t> numeric_columns;  // table indices, for the correlations below
  for (const Column& c : table.columns) {
    ColumnAnalysis ca;
    ca.name = c.name;
    ca.type = c.type;
    ca.is_target = c.name == target;
    size_t missing = 0;
    for (size_t r : rows) missing += c.is_missing(r);
    ca.missing_fraction = rows.empty() ? 0 : double(missing) / rows.size();
    if (c.type == ColumnType::kNumeric) {
      std::vector<double> x = as_numbers(c, rows), v;
      for (double d : x)
        if (!std::isnan(d)) v.push_back(d);
      std::sort(v.begin(), v.end());
      ca.distinct = static_cast<size_t>(std::unique(v.begin(), v.end()) - v.begin());
      v.clear();
      for (double d : x)
        if (!std::isnan(d)) v.push_back(d);
      if (!v.empty()) {
        ca.mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
        double sd = 0;
        for (double d : v) sd += (d - ca.mean) * (d - ca.mean);
        sd = std::sqrt(sd / v.size());
        size_t out = 0;
        for (double d : v) out += sd > 0 && std::fabs(d - ca.mean) > 3 * sd;
        ca.outlier_fraction = double(out) / v.size();
        std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
        ca.median = v[v.size() / 2];
        ca.min = *std::min_element(v.begin(), v.end());
        ca.max = *std::max_element(v.begin(), v.end());
      }
      svg::bin_values(x, 20, ca.edges, ca.counts);
      numeric_columns.push_back(static_cast<size_t>(&c - table.columns.data()));
      if (c.name != target) accumulate_max_z(x, maxz);
    } else {
      std::unordered_map<std::string, size_t> counts;
      for (size_t r : rows)
        if (!c.is_missing(r)) counts[c.value_string(r)]++;
      ca.distinct = counts.size();
      std::vector<std::pair<std::string, size_t>> top(counts.begin(), counts.end());
      std::sort(top.begin(), top.end(), [](auto& x, auto& y) {
        return x.second != y.second ? x.second > y.second : x.first < y.first;
      });
      for (size_t i = 0; i < top.size() && i < 10; ++i) {
        ca.top_labels.push_back(shorten(top[i].first));
        ca.top_counts.push_back(static_cast<double>(top[i].second));
      }
    }
    if (ti >= 0 && !ca.is_target && c.type != ColumnType::kIdLike)
      ca.prediction_power = prediction_power(c, table.columns[static_cast<size_t>(ti)], task, rows);
    a.columns.push_back(std::move(ca));
  }
  {
    std::vector<std::pair<double, size_t>> scored;
    for (size_t i = 0; i < rows.size(); ++i) {
      const double score = 1 - maxz[i] / 3;
      if (score < 0) ++a.negative_anomaly_scores;
      scored.push_back({score, rows[i]});
    }
    const size_t keep = std::min<size_t>(10, scored.size());
    std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(keep), scored.end());
    for (size_t i = 0; i < keep; ++i) a.anomalous_rows.push_back({scored[i].second, scored[i].first});
  }
  // Correlations of at most kMaxCorrelationColumns numeric columns: the target first, then the
  // features with the most prediction power (the matrix grows with the square of the width).
  a.numeric_columns_total = numeric_columns.size();
  std::stable_sort(numeric_columns.begin(), numeric_columns.end(), [&](size_t x, size_t y) {
    const auto& cx = a.columns[x];
    const auto& cy = a.columns[y];
    if (cx.is_target != cy.is_target) return cx.is_target;
    return cx.prediction_power > cy.prediction_power;
  });
  if (numeric_columns.size() > kMaxCorrelationColumns) numeric_columns.resize(kMaxCorrelationColumns);
  std::vector<std::vector<double>> numeric_values;
  for (size_t k : numeric_columns) {
    a.numeric_names.push_back(table.columns[k].name);
    numeric_values.push_back(as_numbers(table.columns[k], rows));
  }
  const size_t nn = a.numeric_names.size();
  a.correlation.assign(nn, std::vector<double>(nn, 1.0));
  for (size_t i = 0; i < nn; ++i)
    for (size_t j = i + 1; j < nn; ++j)
      a.correlation[i][j] = a.correlation[j][i] = pearson(numeric_values[i], numeric_values[j]);
  // Duplicates: rows whose every value equals an earlier row's.
  std::unordered_map<std::string, size_t> seen;
  for (size_t r : rows) {
    std::string key;
    for (const Column& c : table.columns) key += c.value_string(r) + '\x1f';
    if (!seen.emplace(key, r).second) {
      ++a.duplicate_rows_in_sample;
      if (a.duplicate_examples.size() < 10) {
        std::vector<std::string> values;
        for (const Column& c : table.columns) values.push_back(shorten(c.value_string(r)));
        a.duplicate_examples.push_back(std::move(values));
      }
    }
  }
  return a;
}

nlohmann::json DatasetAnalysis::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) {
    nlohmann::json j = {{"name", c.name}, {"type", std::string(tabpilot::to_string(c.type))},
                        {"missing_fraction", c.missing_fraction}, {"distinct", c.distinct},
                        {"prediction_power", c.prediction_power}, {"is_target", c.is_target}};
    if (c.type == ColumnType::kNumeric)
      j.update({{"mean", c.mean}, {"median", c.median}, {"min", c.min}, {"max", c.max},
                {"outlier_fraction", c.outlier_fraction}});
    cols.push_back(j);
  }
  nlohmann::json corr = nlohmann::json::array();
  for (const auto& row : correlation) {
    nlohmann::json r = nlohmann::json::array();
    for (double v : row) r.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
    corr.push_back(r);
  }
  return {{"rows_total", rows_total}, {"rows_analysed", rows_analysed}, {"sampled", sampled},
          {"columns", cols},
          {"correlation",
           {{"columns", numeric_names}, {"pearson", corr},
            {"numeric_columns_total", numeric_columns_total}}},
          {"duplicate_rows_in_sample", duplicate_rows_in_sample},
          {"negative_anomaly_scores", negative_anomaly_scores},
          {"most_anomalous_rows", anomalous_rows}};
}

}  // namespace tabpilot::report
