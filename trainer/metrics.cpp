#include "tabpilot/trainer/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "tabpilot/common/error.h"

// Conventions where a metric is undefined follow scikit-learn's defaults, so that figures can
// be checked against it: precision/recall/F1 with a zero denominator are 0; R2 of a constant
// target is 1 for a perfect fit and 0 otherwise; AUC with one class present is 0.5; macro
// averages and balanced accuracy run over the classes that occur (in truth or predictions
// for the macro averages, in truth for balanced accuracy); log loss clips probabilities to
// [1e-15, 1 - 1e-15].

namespace tabpilot {
namespace {

constexpr double kLogLossEps = 1e-15;


bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

double safe_div(double num, double den) { return den == 0 ? 0.0 : num / den; }

// Class index of a label stored as float; rejects anything that is not one of 0..k-1.
int class_of(float y, int num_classes, size_t row) {
  if (!(y >= 0) || y != std::floor(y) || y >= static_cast<float>(num_classes))
    throw std::invalid_argument("metric: label " + std::to_string(y) + " at row " +
                                std::to_string(row) + " is not a class index in [0, " +
                                std::to_string(num_classes) + ")");
  return static_cast<int>(y);
}

double regression_metric(Metric m, const std::vector<float>& y, const std::vector<float>& p) {
  const size_t n = y.size();
  double sq = 0, abs_err = 0, mean = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = static_cast<double>(p[i]) - y[i];
    sq += d * d;
    abs_err += std::fabs(d);
    mean += y[i];
  }
  mean /= static_cast<double>(n);
  switch (m) {
    case Metric::kMSE:
      return sq / n;
    case Metric::kRMSE:
      return std::sqrt(sq / n);
    case Metric::kMAE:
      return abs_err / n;
    case Metric::kR2: {
      double tot = 0;
      for (float v : y) tot += (v - mean) * (v - mean);
      if (tot == 0) return sq == 0 ? 1.0 : 0.0;
      return 1.0 - sq / tot;
    }
    default:
      break;
  }
  throw std::invalid_argument("metric " + std::string(to_string(m)) +
                              " does not apply to regression");
}

// Area under the ROC curve as the Mann-Whitney statistic; tied scores share their mean rank.
double auc(const std::vector<int>& label, const std::vector<double>& score) {
  const size_t n = label.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  double rank_sum_pos = 0;
  size_t n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && score[order[j]] == score[order[i]]) ++j;
    double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (label[order[k]] == 1) rank_sum_pos += mean_rank, ++n_pos;
    i = j;
  }
  size_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0) return 0.5;
  double u = rank_sum_pos - static_cast<double>(n_pos) * (n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

// Per-class counts from true and predicted class indices.
struct Confusion {
  std::vector<double> tp, fp, fn, support;
  explicit Confusion(int k) : tp(k), fp(k), fn(k), support(k) {}
  void add(int truth, int predicted) {
    support[truth] += 1;
    if (truth == predicted) {
      tp[truth] += 1;
    } else {
      fp[predicted] += 1;
      fn[truth] += 1;
    }
  }
  double precision(int c) const { return safe_div(tp[c], tp[c] + fp[c]); }
  double recall(int c) const { return safe_div(tp[c], tp[c] + fn[c]); }
  double f1(int c) const { return safe_div(2 * tp[c], 2 * tp[c] + fp[c] + fn[c]); }
  bool occurs(int c) const { return tp[c] + fp[c] + fn[c] > 0; }
  // Mean recall over the classes present in the truth.
  double balanced_accuracy() const {
    double sum = 0;
    int present = 0;
    for (size_t c = 0; c < support.size(); ++c) {
      if (support[c] == 0) continue;
      sum += recall(static_cast<int>(c));
      ++present;
    }
    return safe_div(sum, present);
  }
  template <typename F>
  double macro(F per_class) const {
    double sum = 0;
    int seen = 0;
    for (int c = 0; c < static_cast<int>(tp.size()); ++c) {
      if (!occurs(c)) continue;
      sum += per_class(c);
      ++seen;
    }
    return safe_div(sum, seen);
  }
};

double clip_log(double p) { return std::log(std::clamp(p, kLogLossEps, 1.0 - kLogLossEps)); }

double binary_metric(Metric m, const std::vector<float>& y, const std::vector<float>& p) {
  const size_t n = y.size();
  std::vector<int> label(n);
  Confusion cm(2);
  double log_loss = 0;
  size_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    label[i] = class_of(y[i], 2, i);
    double p1 = p[2 * i + 1];
    int predicted = p1 >= 0.5 ? 1 : 0;
    cm.add(label[i], predicted);
    correct += predicted == label[i];
    log_loss -= label[i] == 1 ? clip_log(p1) : clip_log(1.0 - p1);
  }
  switch (m) {
    case Metric::kAccuracy:
      return static_cast<double>(correct) / n;
    case Metric::kPrecision:
      return cm.precision(1);
    case Metric::kRecall:
      return cm.recall(1);
    case Metric::kF1:
      return cm.f1(1);
    case Metric::kBalancedAccuracy:
      return cm.balanced_accuracy();
    case Metric::kLogLoss:
      return log_loss / n;
    case Metric::kAUC: {
      std::vector<double> score(n);
      for (size_t i = 0; i < n; ++i) score[i] = p[2 * i + 1];
      return auc(label, score);
    }
    default:
      break;
  }
  throw std::invalid_argument("metric " + std::string(to_string(m)) +
                              " does not apply to binary classification");
}

double multiclass_metric(Metric m, const std::vector<float>& y, const std::vector<float>& p,
                         int k) {
  const size_t n = y.size();
  Confusion cm(k);
  double log_loss = 0;
  size_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    int truth = class_of(y[i], k, i);
    const float* row = p.data() + i * k;
    int predicted = static_cast<int>(std::max_element(row, row + k) - row);  // first on ties
    cm.add(truth, predicted);
    correct += predicted == truth;
    log_loss -= clip_log(row[truth]);
  }
  switch (m) {
    case Metric::kAccuracy:
      return static_cast<double>(correct) / n;
    case Metric::kBalancedAccuracy:
      return cm.balanced_accuracy();
    case Metric::kF1Macro:
      return cm.macro([&](int c) { return cm.f1(c); });
    case Metric::kPrecisionMacro:
      return cm.macro([&](int c) { return cm.precision(c); });
    case Metric::kRecallMacro:
      return cm.macro([&](int c) { return cm.recall(c); });
    case Metric::kLogLoss:
      return log_loss / n;
    default:
      break;
  }
  throw std::invalid_argument("metric " + std::string(to_string(m)) +
                              " does not apply to multiclass classification");
}

}  // namespace

std::string_view to_string(Metric m) {
  switch (m) {
    case Metric::kMSE:
      return "MSE";
    case Metric::kRMSE:
      return "RMSE";
    case Metric::kMAE:
      return "MAE";
    case Metric::kR2:
      return "R2";
    case Metric::kAccuracy:
      return "Accuracy";
    case Metric::kF1:
      return "F1";
    case Metric::kAUC:
      return "AUC";
    case Metric::kBalancedAccuracy:
      return "BalancedAccuracy";
    case Metric::kPrecision:
      return "Precision";
    case Metric::kRecall:
      return "Recall";
    case Metric::kLogLoss:
      return "LogLoss";
    case Metric::kF1Macro:
      return "F1macro";
    case Metric::kPrecisionMacro:
      return "PrecisionMacro";
    case Metric::kRecallMacro:
      return "RecallMacro";
  }
  return "?";
}

Metric metric_from_string(std::string_view name, Task task) {
  const std::vector<Metric> valid = reported_metrics(task);
  for (Metric m : valid)
    if (iequals(name, to_string(m))) return m;
  std::string list;
  for (Metric m : valid) list += (list.empty() ? "" : ", ") + std::string(to_string(m));
  throw InputError("unknown objective metric '" + std::string(name) + "' for " +
                   std::string(to_string(task)) + " (valid: " + list + ")");
}

bool higher_is_better(Metric m) {
  switch (m) {
    case Metric::kMSE:
    case Metric::kRMSE:
    case Metric::kMAE:
    case Metric::kLogLoss:
      return false;
    default:
      return true;
  }
}

Metric default_objective(Task task) {
  switch (task) {
    case Task::kRegression:
      return Metric::kMSE;
    case Task::kBinary:
      return Metric::kF1;
    case Task::kMulticlass:
      return Metric::kAccuracy;
  }
  return Metric::kMSE;
}

std::vector<Metric> reported_metrics(Task task) {
  switch (task) {
    case Task::kRegression:
      return {Metric::kMSE, Metric::kRMSE, Metric::kMAE, Metric::kR2};
    case Task::kBinary:
      return {Metric::kAccuracy,  Metric::kAUC,    Metric::kBalancedAccuracy, Metric::kF1,
              Metric::kPrecision, Metric::kRecall, Metric::kLogLoss};
    case Task::kMulticlass:
      return {Metric::kAccuracy,       Metric::kBalancedAccuracy, Metric::kF1Macro,
              Metric::kPrecisionMacro, Metric::kRecallMacro,      Metric::kLogLoss};
  }
  return {};
}

double compute_metric(Metric m, Task task, const std::vector<float>& y_true,
                      const std::vector<float>& pred, int num_classes) {
  if (y_true.empty()) throw std::invalid_argument("metric: no rows to score");
  if (task == Task::kRegression) {
    if (pred.size() != y_true.size())
      throw std::invalid_argument("metric: " + std::to_string(pred.size()) + " predictions for " +
                                  std::to_string(y_true.size()) + " labels");
    return regression_metric(m, y_true, pred);
  }
  if (num_classes < 2 || (task == Task::kBinary && num_classes != 2))
    throw std::invalid_argument("metric: num_classes = " + std::to_string(num_classes) +
                                " does not fit " + std::string(to_string(task)));
  if (pred.size() != y_true.size() * static_cast<size_t>(num_classes))
    throw std::invalid_argument("metric: " + std::to_string(pred.size()) + " probabilities for " +
                                std::to_string(y_true.size()) + " labels x " +
                                std::to_string(num_classes) + " classes");
  if (task == Task::kBinary) return binary_metric(m, y_true, pred);
  return multiclass_metric(m, y_true, pred, num_classes);
}

}  // namespace tabpilot
