#include "tabpilot/report/model_quality.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "tabpilot/common/error.h"
#include "tabpilot/report/html.h"
#include "tabpilot/report/svg.h"

namespace tabpilot {
namespace {

using Scalars = std::map<std::string, double>;

double safe_div(double a, double b) { return b > 0 ? a / b : 0.0; }
double f_beta(double p, double r, double beta) {
  const double b2 = beta * beta;
  return p + r > 0 ? (1 + b2) * p * r / (b2 * p + r) : 0.0;
}

size_t predicted_class(const ValidationPredictions& v, size_t i) {
  const size_t k = static_cast<size_t>(v.num_classes());
  if (k == 2) return v.pred[i * 2 + 1] >= v.decision_threshold ? 1 : 0;
  const float* p = &v.pred[i * k];
  return static_cast<size_t>(std::max_element(p, p + k) - p);
}

// Area under the ROC curve by the rank statistic (ties get half credit).
double auc_of(const std::vector<std::pair<float, int>>& scored) {
  std::vector<std::pair<float, int>> s = scored;
  std::sort(s.begin(), s.end());
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && s[j].first == s[i].first) ++j;
    const double avg_rank = (i + 1 + j) / 2.0;
    for (size_t t = i; t < j; ++t)
      if (s[t].second) rank_sum += avg_rank, pos += 1;
      else neg += 1;
    i = j;
  }
  if (pos == 0 || neg == 0) return NAN;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

Scalars regression_scalars(const ValidationPredictions& v, const std::vector<size_t>& idx) {
  double mean = 0;
  for (size_t i : idx) mean += v.y_true[i];
  mean /= std::max<size_t>(idx.size(), 1);
  double se = 0, ae = 0, st = 0;
  for (size_t i : idx) {
    const double e = double(v.pred[i]) - v.y_true[i];
    se += e * e, ae += std::fabs(e), st += (v.y_true[i] - mean) * (v.y_true[i] - mean);
  }
  const double n = std::max<size_t>(idx.size(), 1);
  return {{"mae", ae / n}, {"mse", se / n}, {"rmse", std::sqrt(se / n)},
          {"r2", st > 0 ? 1 - se / st : NAN}};
}

// Precision, recall, accuracy and F-scores of predictions `pred` against `truth` (binary,
// class 1 positive).
void binary_rates(const std::vector<int>& truth, const std::vector<int>& pred, Scalars& out,
                  const std::string& suffix) {
  double tp = 0, fp = 0, tn = 0, fn = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (pred[i]) (truth[i] ? tp : fp) += 1;
    else (truth[i] ? fn : tn) += 1;
  }
  const double p = safe_div(tp, tp + fp), r = safe_div(tp, tp + fn);
  out["recall" + suffix] = r;
  out["precision" + suffix] = p;
  out["accuracy" + suffix] = safe_div(tp + tn, tp + tn + fp + fn);
  out["f0_5" + suffix] = f_beta(p, r, 0.5);
  out["f1" + suffix] = f_beta(p, r, 1);
  out["f2" + suffix] = f_beta(p, r, 2);
  if (suffix.empty()) {
    out["true_positive_rate"] = r;
    out["true_negative_rate"] = safe_div(tn, tn + fp);
    out["false_positive_rate"] = safe_div(fp, fp + tn);
    out["false_negative_rate"] = safe_div(fn, fn + tp);
  }
}

Scalars binary_scalars(const ValidationPredictions& v, const std::vector<size_t>& idx) {
  std::vector<int> truth, pred;
  std::vector<std::pair<float, int>> scored;
  for (size_t i : idx) {
    truth.push_back(v.y_true[i] >= 0.5f);
    pred.push_back(static_cast<int>(predicted_class(v, i)));
    scored.push_back({v.pred[i * 2 + 1], truth.back()});
  }
  Scalars out;
  binary_rates(truth, pred, out, "");
  out["auc"] = auc_of(scored);
  // The best constant classifier: whichever of "always 0" / "always 1" scores higher.
  Scalars c0, c1;
  binary_rates(truth, std::vector<int>(truth.size(), 0), c0, "_best_constant_classifier");
  binary_rates(truth, std::vector<int>(truth.size(), 1), c1, "_best_constant_classifier");
  for (const auto& [k, val] : c0) out[k] = std::max(val, c1[k]);
  return out;
}

// Weighted (by support) precision/recall/F-scores; per-class values when `per_class` is set.
void weighted_scores(const std::vector<int>& truth, const std::vector<int>& pred, size_t k,
                     Scalars& out, const std::string& suffix,
                     std::vector<std::array<double, 4>>* per_class = nullptr) {
  std::vector<double> tp(k, 0), fp(k, 0), fn(k, 0), support(k, 0);
  double correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    const auto t = static_cast<size_t>(truth[i]), p = static_cast<size_t>(pred[i]);
    support[t] += 1;
    if (t == p) tp[t] += 1, correct += 1;
    else fp[p] += 1, fn[t] += 1;
  }
  const double n = std::max<size_t>(truth.size(), 1);
  double wp = 0, wr = 0, w05 = 0, w1 = 0, w2 = 0;
  for (size_t c = 0; c < k; ++c) {
    const double p = safe_div(tp[c], tp[c] + fp[c]), r = safe_div(tp[c], tp[c] + fn[c]);
    const double w = support[c] / n;
    wp += w * p, wr += w * r, w05 += w * f_beta(p, r, 0.5), w1 += w * f_beta(p, r, 1),
        w2 += w * f_beta(p, r, 2);
    if (per_class) per_class->push_back({p, r, f_beta(p, r, 1), support[c]});
  }
  out["accuracy" + suffix] = correct / n;
  out["weighted_recall" + suffix] = wr;
  out["weighted_precision" + suffix] = wp;
  out["weighted_f0_5" + suffix] = w05;
  out["weighted_f1" + suffix] = w1;
  out["weighted_f2" + suffix] = w2;
}

Scalars multiclass_scalars(const ValidationPredictions& v, const std::vector<size_t>& idx) {
  const size_t k = static_cast<size_t>(v.num_classes());
  std::vector<int> truth, pred;
  for (size_t i : idx) {
    truth.push_back(static_cast<int>(v.y_true[i]));
    pred.push_back(static_cast<int>(predicted_class(v, i)));
  }
  Scalars out;
  weighted_scores(truth, pred, k, out, "");
  Scalars best;
  for (size_t c = 0; c < k; ++c) {
    Scalars one;
    weighted_scores(truth, std::vector<int>(truth.size(), static_cast<int>(c)), k, one,
                    "_best_constant_classifier");
    for (const auto& [name, val] : one) best[name] = std::max(best.count(name) ? best[name] : 0.0, val);
  }
  out.insert(best.begin(), best.end());
  return out;
}

Scalars scalars(const ValidationPredictions& v, const std::vector<size_t>& idx) {
  if (v.task == Task::kRegression) return regression_scalars(v, idx);
  if (v.task == Task::kBinary) return binary_scalars(v, idx);
  return multiclass_scalars(v, idx);
}

nlohmann::json number_or_nan(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json("NaN");
}

nlohmann::json confusion(const ValidationPredictions& v) {
  const size_t k = static_cast<size_t>(v.num_classes());
  std::vector<std::vector<size_t>> m(k, std::vector<size_t>(k, 0));
  for (size_t i = 0; i < v.size(); ++i) m[static_cast<size_t>(v.y_true[i])][predicted_class(v, i)]++;
  nlohmann::json j = nlohmann::json::object();
  for (size_t t = 0; t < k; ++t)
    for (size_t p = 0; p < k; ++p) j[v.labels[t]][v.labels[p]] = m[t][p];
  return j;
}

// ROC and precision-recall points at every distinct score (thinned to ~500 points).
void curves(const ValidationPredictions& v, nlohmann::json& roc, nlohmann::json& pr) {
  std::vector<std::pair<float, int>> s;
  for (size_t i = 0; i < v.size(); ++i) s.push_back({v.pred[i * 2 + 1], v.y_true[i] >= 0.5f});
  std::sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.first > b.first; });
  double pos = 0;
  for (auto& x : s) pos += x.second;
  const double neg = s.size() - pos;
  std::vector<double> fpr{0}, tpr{0}, prec, rec;
  double tp = 0, fp = 0;
  const size_t stride = std::max<size_t>(1, s.size() / 500);
  size_t since = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    (s[i].second ? tp : fp) += 1;
    const bool boundary = i + 1 == s.size() || s[i + 1].first != s[i].first;
    if (!boundary || (++since < stride && i + 1 != s.size())) continue;
    since = 0;
    fpr.push_back(safe_div(fp, neg));
    tpr.push_back(safe_div(tp, pos));
    prec.push_back(safe_div(tp, tp + fp));
    rec.push_back(safe_div(tp, pos));
  }
  roc = {{"false_positive_rates", fpr}, {"true_positive_rates", tpr}};
  pr = {{"precisions", prec}, {"recalls", rec}};
}

}  // namespace

nlohmann::json model_quality_metrics(const ValidationPredictions& v, uint64_t seed) {
  if (v.size() == 0) throw InputError("model quality: there are no validation predictions");
  std::vector<size_t> all(v.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const Scalars full = scalars(v, all);
  std::map<std::string, std::vector<double>> subs;
  if (v.size() >= kMinRowsForStd) {
    std::mt19937_64 rng(seed ^ 0x6d71ULL);
    for (int rep = 0; rep < 5; ++rep) {
      std::vector<size_t> idx = all;
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(idx.size() * 8 / 10);
      for (const auto& [k, val] : scalars(v, idx)) subs[k].push_back(val);
    }
  }
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, val] : full) {
    double sd = NAN;
    if (auto it = subs.find(k); it != subs.end()) {
      const auto& xs = it->second;
      const double m = std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size();
      double ss = 0;
      for (double x : xs) ss += (x - m) * (x - m);
      sd = std::sqrt(ss / (xs.size() - 1));
    }
    metrics[k] = {{"value", number_or_nan(val)}, {"standard_deviation", number_or_nan(sd)}};
  }
  nlohmann::json j = {{"version", "1.0"}, {"dataset", {{"item_count", v.size()}}}};
  if (v.task == Task::kRegression) {
    j["regression_metrics"] = metrics;
  } else if (v.task == Task::kBinary) {
    metrics["confusion_matrix"] = confusion(v);
    curves(v, metrics["receiver_operating_characteristic_curve"], metrics["precision_recall_curve"]);
    j["binary_classification_metrics"] = metrics;
  } else {
    metrics["confusion_matrix"] = confusion(v);
    j["multiclass_classification_metrics"] = metrics;
  }
  return j;
}

namespace {

std::string metrics_table(const nlohmann::json& metrics) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, val] : metrics.items()) {
    if (!val.is_object() || !val.contains("value")) continue;
    auto show = [](const nlohmann::json& x) {
      return x.is_number() ? html::num(x.get<double>()) : x.get<std::string>();
    };
    rows.push_back({k, show(val["value"]), show(val["standard_deviation"])});
  }
  return html::table({"metric", "value", "standard deviation"}, rows, {1, 2});
}

std::string regression_charts(const ValidationPredictions& v) {
  std::vector<double> actual(v.y_true.begin(), v.y_true.end()), pred(v.pred.begin(), v.pred.end());
  std::vector<double> resid(v.size());
  double mean_r = 0;
  for (size_t i = 0; i < v.size(); ++i) mean_r += resid[i] = actual[i] - pred[i];
  mean_r /= std::max<size_t>(v.size(), 1);
  double sd = 0;
  for (double r : resid) sd += (r - mean_r) * (r - mean_r);
  sd = std::sqrt(sd / std::max<size_t>(v.size() - 1, 1));
  // Least-squares fit of predicted on actual, drawn over the observed range.
  double mx = 0, my = 0;
  for (size_t i = 0; i < v.size(); ++i) mx += actual[i], my += pred[i];
  mx /= std::max<size_t>(v.size(), 1), my /= std::max<size_t>(v.size(), 1);
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < v.size(); ++i)
    sxy += (actual[i] - mx) * (pred[i] - my), sxx += (actual[i] - mx) * (actual[i] - mx);
  const double slope = sxx > 0 ? sxy / sxx : 0, icpt = my - slope * mx;
  const auto [lo, hi] = std::minmax_element(actual.begin(), actual.end());
  svg::Axes a{"Predicted vs actual", "actual", "predicted"};
  std::vector<svg::Series> s = {
      {"validation rows", actual, pred, "", false},
      {"fit: predicted = " + html::num(slope, 3) + " x actual + " + html::num(icpt, 3),
       {*lo, *hi}, {icpt + slope * *lo, icpt + slope * *hi}, "#d64545"}};
  std::string out = "<div class=\"charts\">" + svg::plot(a, s, true);
  std::vector<double> z(v.size());
  size_t outliers = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    z[i] = sd > 0 ? (resid[i] - mean_r) / sd : 0;
    outliers += std::fabs(z[i]) > 3;
  }
  svg::Axes b{"Standardized residuals", "predicted", "residual / std"};
  b.legend = "br";
  out += svg::plot(b, {{"rows (|z| > 3: outlier)", pred, z, "", false},
                       {"+3", {*std::min_element(pred.begin(), pred.end()),
                               *std::max_element(pred.begin(), pred.end())}, {3, 3}, "#9fb3c8"},
                       {"-3", {*std::min_element(pred.begin(), pred.end()),
                               *std::max_element(pred.begin(), pred.end())}, {-3, -3}, "#9fb3c8"}});
  std::vector<double> edges, counts;
  svg::bin_values(resid, 30, edges, counts);
  out += svg::histogram({"Residual histogram", "actual - predicted", "rows"}, edges, counts);
  out += "</div>";
  out += html::paragraph(std::to_string(outliers) + " of " + std::to_string(v.size()) +
                         " rows have a standardized residual beyond 3 (outliers).");
  return out;
}

std::string confusion_chart(const ValidationPredictions& v) {
  const size_t k = static_cast<size_t>(v.num_classes());
  // Autopilot draws up to 15 labels: the most frequent in validation.
  std::vector<size_t> support(k, 0);
  for (float y : v.y_true) support[static_cast<size_t>(y)]++;
  std::vector<size_t> shown(k);
  std::iota(shown.begin(), shown.end(), size_t{0});
  std::stable_sort(shown.begin(), shown.end(), [&](size_t a, size_t b) { return support[a] > support[b]; });
  if (shown.size() > 15) shown.resize(15);
  std::sort(shown.begin(), shown.end());
  std::vector<size_t> pos(k, k);
  for (size_t i = 0; i < shown.size(); ++i) pos[shown[i]] = i;
  std::vector<std::vector<double>> m(shown.size(), std::vector<double>(shown.size(), 0));
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t t = pos[static_cast<size_t>(v.y_true[i])], p = pos[predicted_class(v, i)];
    if (t < k && p < k) m[t][p] += 1;
  }
  double hi = 0;
  for (auto& r : m)
    for (double x : r) hi = std::max(hi, x);
  std::vector<std::string> names;
  for (size_t c : shown) names.push_back(v.labels[c]);
  return svg::heatmap({"Confusion matrix (rows: actual, columns: predicted)", "predicted"}, names,
                      names, m, 0, hi);
}

std::string binary_charts(const ValidationPredictions& v, const nlohmann::json& m) {
  const auto& roc = m["receiver_operating_characteristic_curve"];
  const auto& pr = m["precision_recall_curve"];
  std::vector<double> fpr = roc["false_positive_rates"], tpr = roc["true_positive_rates"];
  std::vector<double> prec = pr["precisions"], rec = pr["recalls"];
  // Average precision: the PR curve's step integral.
  double ap = 0, prev_r = 0;
  for (size_t i = 0; i < rec.size(); ++i) ap += (rec[i] - prev_r) * prec[i], prev_r = rec[i];
  const auto& auc = m["auc"]["value"];
  std::string out = "<div class=\"charts\">" + confusion_chart(v);
  svg::Axes a{"ROC curve", "false positive rate", "true positive rate"};
  a.x_min = a.y_min = 0, a.x_max = a.y_max = 1;
  a.legend = "br";
  out += svg::plot(a, {{"ROC (AUC " + (auc.is_number() ? html::num(auc.get<double>(), 3) : "NaN") + ")",
                        fpr, tpr}}, true);
  svg::Axes b{"Precision-recall curve", "recall", "precision"};
  b.x_min = b.y_min = 0, b.x_max = b.y_max = 1;
  b.legend = "bl";
  out += svg::plot(b, {{"positive: " + v.labels[1] + " (AUPRC " + html::num(ap, 3) + ")", rec, prec}});
  // Gain: share of positives found in the top x% of rows by score.
  std::vector<std::pair<float, int>> s;
  for (size_t i = 0; i < v.size(); ++i) s.push_back({v.pred[i * 2 + 1], v.y_true[i] >= 0.5f});
  std::sort(s.begin(), s.end(), [](auto& x, auto& y) { return x.first > y.first; });
  double pos = 0;
  for (auto& x : s) pos += x.second;
  std::vector<double> gx{0}, gy{0}, lift_x, lift_y;
  double found = 0;
  for (size_t d = 1; d <= 10; ++d) {
    const size_t end = s.size() * d / 10;
    for (size_t i = s.size() * (d - 1) / 10; i < end; ++i) found += s[i].second;
    gx.push_back(d / 10.0);
    gy.push_back(pos > 0 ? found / pos : 0);
    lift_x.push_back(d / 10.0);
    lift_y.push_back(pos > 0 ? (found / pos) / (d / 10.0) : 0);
  }
  svg::Axes g{"Cumulative gain by decile", "share of rows (highest scores first)", "share of positives"};
  g.x_min = g.y_min = 0, g.x_max = g.y_max = 1;
  g.legend = "br";
  out += svg::plot(g, {{"model", gx, gy}}, true);
  svg::Axes l{"Lift by decile", "share of rows (highest scores first)", "lift over random"};
  l.y_min = 0;
  l.legend = "tr";
  out += svg::plot(l, {{"model", lift_x, lift_y}, {"random", {0.1, 1.0}, {1, 1}, "#9fb3c8"}});
  return out + "</div>";
}

std::string per_class_table(const ValidationPredictions& v) {
  std::vector<int> truth, pred;
  for (size_t i = 0; i < v.size(); ++i) {
    truth.push_back(static_cast<int>(v.y_true[i]));
    pred.push_back(static_cast<int>(predicted_class(v, i)));
  }
  Scalars ignored;
  std::vector<std::array<double, 4>> pc;
  weighted_scores(truth, pred, static_cast<size_t>(v.num_classes()), ignored, "", &pc);
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 0; c < pc.size(); ++c)
    rows.push_back({v.labels[c], html::num(pc[c][0]), html::num(pc[c][1]), html::num(pc[c][2]),
                    pc[c][3] > 0 ? html::num(pc[c][3]) : "NaN (absent)"});
  return html::table({"class", "precision", "recall", "F1", "validation rows"}, rows, {1, 2, 3, 4});
}

}  // namespace

std::string model_quality_html(const ValidationPredictions& v, const nlohmann::json& metrics,
                               const nlohmann::json& details) {
  std::vector<std::vector<std::string>> d;
  for (const auto& [k, val] : details.items())
    d.push_back({k, val.is_string() ? val.get<std::string>() : val.dump()});
  d.push_back({"rows evaluated", std::to_string(v.size())});
  std::string body = html::section("Job details", html::table({"field", "value"}, d));
  std::string kind = v.task == Task::kRegression ? "regression_metrics"
                     : v.task == Task::kBinary   ? "binary_classification_metrics"
                                                 : "multiclass_classification_metrics";
  const auto& m = metrics[kind];
  body += html::section(
      "Metrics",
      html::paragraph(v.size() >= kMinRowsForStd
                          ? "Standard deviation: over 5 random 80% subsamples of the rows."
                          : "Standard deviation: NaN — fewer than 200 validation rows.") +
          metrics_table(m),
      "metrics");
  if (v.task == Task::kRegression) {
    body += html::section("Charts", regression_charts(v), "charts");
  } else if (v.task == Task::kBinary) {
    body += html::section("Charts", binary_charts(v, m), "charts");
    body += html::section("Per class", per_class_table(v));
  } else {
    body += html::section("Charts", "<div class=\"charts\">" + confusion_chart(v) + "</div>", "charts");
    body += html::section("Per class", per_class_table(v));
  }
  return html::page("Model quality: " + details.value("candidate", std::string("best candidate")),
                    "Best candidate on its validation rows (" +
                        details.value("rows_source", std::string("validation")) + ")",
                    body);
}

}  // namespace tabpilot
