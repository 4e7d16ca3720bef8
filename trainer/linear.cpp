// The "linear" learner: ridge regression (closed form) and L2-regularized logistic regression,
// binary or multinomial (L-BFGS), all in double precision and deterministic.
//
// Features are standardized inside the learner (mean 0, population std 1; missing values take
// the mean), so the penalty does not depend on feature units, and the fitted weights are folded
// back to raw units. The intercept is never penalized. With V the weights on standardized
// features, c_i the class weights and n the rows, the objectives are
//   ridge:    sum_i (y_i - b - v.xs_i)^2 + l2 ||v||^2            (sklearn Ridge, alpha = l2)
//   logistic: [sum_i c_i loss_i + (l2 / 2) ||V||^2] / n          (sklearn C = 1 / l2)
// i.e. the penalty per row shrinks as 1/n: more data, less regularization.
// With a validation set, ctx.report(1, loss) runs once after fitting (MSE or log-loss);
// ctx.stop is polled between L-BFGS iterations (the ridge solve is one step).
// predict() is const and allocation-local, so it may run on many threads at once.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/kernels/lbfgs_cpu.h"
#include "tabpilot/kernels/linalg_cpu.h"
#include "tabpilot/trainer/learner_factories.h"

namespace tabpilot {

const ParamTable& linear_param_table();

namespace {

constexpr char kMagic[4] = {'T', 'P', 'L', 'N'};
constexpr uint32_t kVersion = 1;

struct LinearModel {
  Task task = Task::kRegression;
  int num_classes = 1;
  int dim = 0;
  int outputs = 0;           // 1 for regression and binary (logit of class 1), else classes
  std::vector<double> mean;  // per feature, replaces missing inputs
  std::vector<double> w;     // [outputs, dim], raw feature units
  std::vector<double> b;     // [outputs]
};

// Column means and population standard deviations over the non-missing values; constant or
// empty columns get std 1 so that their standardized values are all 0.
void column_stats(MatrixView x, std::vector<double>& mean, std::vector<double>& sd) {
  const size_t d = x.cols;
  mean.assign(d, 0.0);
  sd.assign(d, 0.0);
  std::vector<double> count(d, 0.0);
  for (size_t r = 0; r < x.rows; ++r) {
    const float* row = x.row(r);
    for (size_t c = 0; c < d; ++c)
      if (!std::isnan(row[c])) {
        mean[c] += row[c];
        count[c] += 1;
      }
  }
  for (size_t c = 0; c < d; ++c) mean[c] = count[c] > 0 ? mean[c] / count[c] : 0.0;
  for (size_t r = 0; r < x.rows; ++r) {
    const float* row = x.row(r);
    for (size_t c = 0; c < d; ++c)
      if (!std::isnan(row[c])) sd[c] += (row[c] - mean[c]) * (row[c] - mean[c]);
  }
  for (size_t c = 0; c < d; ++c) {
    sd[c] = count[c] > 0 ? std::sqrt(sd[c] / count[c]) : 0.0;
    if (!(sd[c] > 1e-12 * (1.0 + std::fabs(mean[c])))) sd[c] = 1.0;
  }
}

// The standardized rows of x, a block at a time, in double: (x - mean) / sd, missing -> 0.
// Fitting never holds a standardized copy of the whole matrix (8 bytes per value would be
// the largest allocation of a job on a million rows), only kBlockRows rows of it.
constexpr size_t kBlockRows = 4096;

class StandardizedBlocks {
 public:
  StandardizedBlocks(MatrixView x, const std::vector<double>& mean, const std::vector<double>& sd)
      : x_(x), mean_(mean), sd_(sd), buf_(std::min(kBlockRows, x.rows) * x.cols) {}
  size_t rows() const { return x_.rows; }
  // Calls fn(block, first_row, block_rows) over the whole matrix.
  template <typename Fn>
  void for_each(Fn&& fn) {
    const size_t d = x_.cols;
    for (size_t begin = 0; begin < x_.rows; begin += kBlockRows) {
      const size_t n = std::min(kBlockRows, x_.rows - begin);
      for (size_t r = 0; r < n; ++r) {
        const float* row = x_.row(begin + r);
        double* out = buf_.data() + r * d;
        for (size_t c = 0; c < d; ++c)
          out[c] = std::isnan(row[c]) ? 0.0 : (row[c] - mean_[c]) / sd_[c];
      }
      fn(static_cast<const double*>(buf_.data()), begin, n);
    }
  }

 private:
  MatrixView x_;
  const std::vector<double>& mean_;
  const std::vector<double>& sd_;
  std::vector<double> buf_;
};

void check_fit_data(const FitData& d) {
  if (d.x_train.rows == 0) throw InputError("linear: the training set has no rows");
  if (d.x_train.cols == 0) throw InputError("linear: the training set has no feature columns");
  if (!d.x_train.device.is_cpu())
    throw InputError("linear: training data must be in host memory (linear runs on the CPU)");
  if (!d.y_train || d.y_train->size() != d.x_train.rows)
    throw InputError("linear: y_train must have one value per training row");
  if (d.x_valid.rows > 0 && (!d.y_valid || d.y_valid->size() != d.x_valid.rows))
    throw InputError("linear: y_valid must have one value per validation row");
  if (d.x_valid.rows > 0 && d.x_valid.cols != d.x_train.cols)
    throw InputError("linear: validation and training sets have different column counts");
  const int k = d.num_classes;
  if (d.task == Task::kBinary && k != 2)
    throw InputError("linear: a binary task needs num_classes = 2");
  if (d.task == Task::kMulticlass && k < 2)
    throw InputError("linear: a multiclass task needs num_classes >= 2");
  auto check_labels = [&](const std::vector<float>& y, const char* set) {
    for (size_t i = 0; i < y.size(); ++i) {
      const float v = y[i];
      if (!std::isfinite(v))
        throw InputError(std::string("linear: ") + set + " target at row " + std::to_string(i) +
                         " is not a finite number; drop rows with a missing target");
      if (is_classification(d.task) && (v != std::floor(v) || v < 0 || v >= k))
        throw InputError(std::string("linear: ") + set + " label at row " + std::to_string(i) +
                         " is " + std::to_string(v) + ", expected a class index in [0, " +
                         std::to_string(k) + ")");
    }
  };
  check_labels(*d.y_train, "training");
  if (d.x_valid.rows > 0) check_labels(*d.y_valid, "validation");
}

// Smooth convex objective over theta = [V (outputs x d) row-major, b (outputs)].
class LogisticObjective {
 public:
  LogisticObjective(StandardizedBlocks& xs, const std::vector<float>& y,
                    const std::vector<double>& row_weight, size_t n, int d, int outputs, double l2)
      : xs_(xs),
        y_(y),
        c_(row_weight),
        n_(n),
        d_(d),
        k_(outputs),
        l2_(l2),
        z_(std::min(kBlockRows, n) * outputs) {}

  size_t size() const { return static_cast<size_t>(k_) * (d_ + 1); }

  double operator()(const std::vector<double>& theta, std::vector<double>& grad) {
    const double* v = theta.data();
    const double* b = v + static_cast<size_t>(k_) * d_;
    double loss = 0.0;
    grad.assign(size(), 0.0);
    double* gb = grad.data() + static_cast<size_t>(k_) * d_;
    xs_.for_each([&](const double* block, size_t first, size_t rows) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), k_, d_, 1.0,
                  block, d_, v, d_, 0.0, z_.data(), k_);
      for (size_t i = 0; i < rows; ++i) {
        double* z = z_.data() + i * k_;  // becomes the weighted residual c_i (p - y)
        const int label = static_cast<int>(y_[first + i]);
        const double ci = c_[first + i];
        if (k_ == 1) {
          const double t = z[0] + b[0];
          // log(1 + e^t) - y t, without overflow for large |t|.
          const double softplus = t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
          loss += ci * (softplus - label * t);
          const double p = t >= 0 ? 1.0 / (1.0 + std::exp(-t)) : std::exp(t) / (1.0 + std::exp(t));
          z[0] = ci * (p - label);
        } else {
          double zmax = -INFINITY;
          for (int c = 0; c < k_; ++c) {
            z[c] += b[c];
            zmax = std::max(zmax, z[c]);
          }
          double sum = 0.0;
          for (int c = 0; c < k_; ++c) sum += std::exp(z[c] - zmax);
          const double lse = zmax + std::log(sum);
          loss += ci * (lse - z[label]);
          for (int c = 0; c < k_; ++c) z[c] = ci * (std::exp(z[c] - lse) - (c == label ? 1 : 0));
        }
        for (int c = 0; c < k_; ++c) gb[c] += z[c];
      }
      // grad[k, d] += residuals^T block, accumulated over the blocks.
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k_, d_, static_cast<int>(rows), 1.0,
                  z_.data(), k_, block, d_, 1.0, grad.data(), d_);
    });
    double penalty = 0.0;
    const size_t nv = static_cast<size_t>(k_) * d_;
    for (size_t j = 0; j < nv; ++j) {
      penalty += v[j] * v[j];
      grad[j] += l2_ * v[j];
    }
    const double inv_n = 1.0 / static_cast<double>(n_);
    for (double& g : grad) g *= inv_n;
    return (loss + 0.5 * l2_ * penalty) * inv_n;
  }

 private:
  StandardizedBlocks& xs_;
  const std::vector<float>& y_;
  const std::vector<double>& c_;
  size_t n_;
  int d_, k_;
  double l2_;
  std::vector<double> z_;  // logits, then weighted residuals
};

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  const size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

void put_doubles(std::vector<uint8_t>& out, const std::vector<double>& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  out.insert(out.end(), p, p + v.size() * sizeof(double));
}

class LinearLearner : public Learner {
 public:
  std::string name() const override { return "linear"; }

  void fit(const FitData& data, const Params& params, const FitContext& ctx) override {
    check_fit_data(data);
    const Params p = resolve_params(linear_param_table(), params);
    const double l2 = p["l2"].get<double>();
    const int max_iter = p["max_iter"].get<int>();
    const bool balanced = p["class_weight"].get<std::string>() == "balanced";
    openblas_set_num_threads(std::max(1, ctx.threads));

    LinearModel m;
    m.task = data.task;
    m.num_classes = is_classification(data.task) ? data.num_classes : 1;
    m.dim = static_cast<int>(data.x_train.cols);
    m.outputs = data.task == Task::kMulticlass ? m.num_classes : 1;
    std::vector<double> sd;
    column_stats(data.x_train, m.mean, sd);
    StandardizedBlocks xs(data.x_train, m.mean, sd);
    const size_t n = data.x_train.rows;
    const int d = m.dim;
    const std::vector<float>& y = *data.y_train;
    std::vector<double> v(static_cast<size_t>(m.outputs) * d, 0.0), b(m.outputs, 0.0);
    info_ = nlohmann::json::object();
    info_["l2"] = l2;

    if (data.task == Task::kRegression) {
      double ymean = 0.0;
      for (float t : y) ymean += t;
      ymean /= static_cast<double>(n);
      std::vector<double> yc(n);
      for (size_t i = 0; i < n; ++i) yc[i] = y[i] - ymean;
      if (n < static_cast<size_t>(d)) {
        // Wide data: the dual form v = Xs^T (Xs Xs^T + l2 I)^-1 yc solves an n x n system
        // instead of d x d (the same weights; 40 rows x 2000 columns is instant, not seconds).
        std::vector<double> xsm(n * static_cast<size_t>(d));
        xs.for_each([&](const double* block, size_t first, size_t rows) {
          std::copy_n(block, rows * static_cast<size_t>(d), xsm.begin() + first * d);
        });
        const int ni = static_cast<int>(n);
        std::vector<double> g(n * n, 0.0);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, ni, d, 1.0, xsm.data(), d,
                    xsm.data(), d, 0.0, g.data(), ni);
        for (size_t i = 0; i < n; ++i) g[i * n + i] += l2;
        if (!cholesky_factor_cpu(g.data(), ni))
          throw std::runtime_error("linear: ridge dual equations are not positive definite");
        cholesky_solve_cpu(g.data(), yc.data(), ni);
        cblas_dgemv(CblasRowMajor, CblasTrans, ni, d, 1.0, xsm.data(), d, yc.data(), 1, 0.0,
                    v.data(), 1);
        b[0] = ymean;
        info_["solver"] = "cholesky_dual";
      } else {
        std::vector<double> a(static_cast<size_t>(d) * d, 0.0);
        xs.for_each([&](const double* block, size_t first, size_t rows) {
          cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, static_cast<int>(rows), 1.0,
                      block, d, block, d, 1.0, a.data(), d);
          cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<int>(rows), d, 1.0, block, d,
                      yc.data() + first, 1, 1.0, v.data(), 1);
        });
        for (int j = 0; j < d; ++j) a[static_cast<size_t>(j) * d + j] += l2;
        if (!cholesky_factor_cpu(a.data(), d))
          throw std::runtime_error("linear: ridge normal equations are not positive definite");
        cholesky_solve_cpu(a.data(), v.data(), d);
        b[0] = ymean;
        info_["solver"] = "cholesky";
      }
    } else {
      const int k = m.num_classes;
      std::vector<double> count(k, 0.0);
      for (float t : y) count[static_cast<int>(t)] += 1;
      std::vector<double> class_w(k, 1.0);
      int present = 0;
      for (int c = 0; c < k; ++c) present += count[c] > 0;
      if (balanced)  // sklearn's rule: n / (classes present * n_c)
        for (int c = 0; c < k; ++c)
          class_w[c] = count[c] > 0 ? static_cast<double>(n) / (present * count[c]) : 0.0;
      std::vector<double> row_w(n);
      for (size_t i = 0; i < n; ++i) row_w[i] = class_w[static_cast<int>(y[i])];
      // Start from the (weighted) class priors: the intercept-only optimum, up to smoothing.
      std::vector<double> prior(k);
      double total = 0.0;
      for (int c = 0; c < k; ++c) total += (prior[c] = class_w[c] * count[c] + 0.5);
      std::vector<double> theta(static_cast<size_t>(m.outputs) * (d + 1), 0.0);
      double* tb = theta.data() + static_cast<size_t>(m.outputs) * d;
      if (m.outputs == 1) {
        tb[0] = std::log(prior[1] / prior[0]);
      } else {
        for (int c = 0; c < k; ++c) tb[c] = std::log(prior[c] / total);
      }
      LogisticObjective f(xs, y, row_w, n, d, m.outputs, l2);
      const LbfgsResult r = lbfgs_minimize_cpu(
          [&f](const std::vector<double>& t, std::vector<double>& g) { return f(t, g); }, theta,
          max_iter, 1e-7, [&ctx] { return ctx.stop.should_stop(); });
      std::copy(theta.begin(), theta.begin() + v.size(), v.begin());
      std::copy(theta.begin() + v.size(), theta.end(), b.begin());
      info_["solver"] = "lbfgs";
      info_["iterations"] = r.iterations;
      info_["converged"] = r.converged;
      info_["objective"] = r.objective;
      info_["grad_max"] = r.grad_max;
      if (!std::isfinite(r.objective))
        throw std::runtime_error("linear: non-finite loss at iteration " +
                                 std::to_string(r.iterations));
    }
    // Fold the standardization into raw-unit weights: v.(x - mean)/sd + b.
    m.w.assign(v.size(), 0.0);
    m.b = b;
    for (int o = 0; o < m.outputs; ++o)
      for (int j = 0; j < d; ++j) {
        const double wj = v[static_cast<size_t>(o) * d + j] / sd[j];
        m.w[static_cast<size_t>(o) * d + j] = wj;
        m.b[o] -= wj * m.mean[j];
      }
    model_ = std::move(m);
    fitted_ = true;

    if (data.x_valid.rows > 0) {
      const double loss = validation_loss(data.x_valid, *data.y_valid);
      info_["valid_loss"] = loss;
      if (ctx.report) ctx.report(1, loss);
    }
  }

  void predict(MatrixView x, std::vector<float>& out) const override {
    if (!fitted_) throw std::logic_error("linear: predict() before fit() or deserialize()");
    const LinearModel& m = model_;
    if (static_cast<int>(x.cols) != m.dim)
      throw InputError("linear: the model expects " + std::to_string(m.dim) +
                       " feature columns, got " + std::to_string(x.cols));
    if (!x.device.is_cpu()) throw InputError("linear: predict needs a host-memory matrix");
    const int width = is_classification(m.task) ? m.num_classes : 1;
    out.assign(x.rows * width, 0.0f);
    std::vector<double> z(m.outputs);
    for (size_t r = 0; r < x.rows; ++r) {
      const float* row = x.row(r);
      for (int o = 0; o < m.outputs; ++o) {
        const double* w = m.w.data() + static_cast<size_t>(o) * m.dim;
        double s = m.b[o];
        for (int j = 0; j < m.dim; ++j) s += w[j] * (std::isnan(row[j]) ? m.mean[j] : row[j]);
        z[o] = s;
      }
      float* o = out.data() + r * width;
      if (m.task == Task::kRegression) {
        o[0] = static_cast<float>(z[0]);
      } else if (m.outputs == 1) {
        const double p1 =
            z[0] >= 0 ? 1.0 / (1.0 + std::exp(-z[0])) : std::exp(z[0]) / (1.0 + std::exp(z[0]));
        o[0] = static_cast<float>(1.0 - p1);
        o[1] = static_cast<float>(p1);
      } else {
        const double zmax = *std::max_element(z.begin(), z.end());
        double sum = 0.0;
        for (double& t : z) sum += (t = std::exp(t - zmax));
        for (int c = 0; c < m.outputs; ++c) o[c] = static_cast<float>(z[c] / sum);
      }
    }
  }

  // Exact SHAP of a linear margin with the training means as background: w_j (x_j - mean_j),
  // bias b + w . mean. A missing input is replaced by its mean, so it contributes 0.
  bool contributions(MatrixView x, std::vector<float>& out) const override {
    if (!fitted_) throw std::logic_error("linear: contributions() before fit()");
    const LinearModel& m = model_;
    if (static_cast<int>(x.cols) != m.dim || !x.device.is_cpu())
      throw InputError("linear: contributions need a host matrix of " + std::to_string(m.dim) +
                       " feature columns");
    const size_t d = x.cols, width = d + 1;
    out.assign(x.rows * m.outputs * width, 0.0f);
    for (size_t r = 0; r < x.rows; ++r) {
      const float* row = x.row(r);
      for (int o = 0; o < m.outputs; ++o) {
        const double* w = m.w.data() + static_cast<size_t>(o) * d;
        float* phi = out.data() + (r * m.outputs + o) * width;
        double bias = m.b[o];
        for (size_t j = 0; j < d; ++j) {
          bias += w[j] * m.mean[j];
          if (!std::isnan(row[j])) phi[j] = static_cast<float>(w[j] * (row[j] - m.mean[j]));
        }
        phi[d] = static_cast<float>(bias);
      }
    }
    return true;
  }

  std::vector<uint8_t> serialize() const override {
    if (!fitted_) throw std::logic_error("linear: serialize() before fit()");
    std::vector<uint8_t> out(kMagic, kMagic + 4);
    put_u32(out, kVersion);
    put_u32(out, static_cast<uint32_t>(model_.task));
    put_u32(out, static_cast<uint32_t>(model_.num_classes));
    put_u32(out, static_cast<uint32_t>(model_.dim));
    put_u32(out, static_cast<uint32_t>(model_.outputs));
    put_doubles(out, model_.mean);
    put_doubles(out, model_.w);
    put_doubles(out, model_.b);
    return out;
  }

  void deserialize(const std::vector<uint8_t>& bytes) override {
    constexpr size_t kHeader = 4 + 5 * 4;
    if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 4) != 0)
      throw InputError("linear: model bytes are not a tabpilot linear model (bad header)");
    uint32_t h[5];
    std::memcpy(h, bytes.data() + 4, sizeof(h));
    if (h[0] != kVersion)
      throw InputError("linear: model format version " + std::to_string(h[0]) +
                       " is not supported (expected " + std::to_string(kVersion) +
                       "); retrain the model with this tabpilot");
    LinearModel m;
    if (h[1] > static_cast<uint32_t>(Task::kMulticlass) || h[3] > (1u << 24) || h[4] < 1 ||
        h[4] > (1u << 16))
      throw InputError("linear: model header is corrupt; re-export the model");
    m.task = static_cast<Task>(h[1]);
    m.num_classes = static_cast<int>(h[2]);
    m.dim = static_cast<int>(h[3]);
    m.outputs = static_cast<int>(h[4]);
    const int expect_outputs = m.task == Task::kMulticlass ? m.num_classes : 1;
    const bool classes_ok = m.task == Task::kRegression ? m.num_classes == 1
                            : m.task == Task::kBinary   ? m.num_classes == 2
                                                        : m.num_classes >= 2;
    if (!classes_ok || m.outputs != expect_outputs)
      throw InputError("linear: model header is corrupt; re-export the model");
    const size_t nd = static_cast<size_t>(m.dim), nw = nd * m.outputs;
    if (bytes.size() != kHeader + (nd + nw + m.outputs) * sizeof(double))
      throw InputError("linear: model bytes are truncated or padded; re-export the model");
    const uint8_t* p = bytes.data() + kHeader;
    auto take = [&p](std::vector<double>& v, size_t count) {
      v.resize(count);
      std::memcpy(v.data(), p, count * sizeof(double));
      p += count * sizeof(double);
    };
    take(m.mean, nd);
    take(m.w, nw);
    take(m.b, m.outputs);
    model_ = std::move(m);
    fitted_ = true;
  }

  nlohmann::json fit_info() const override { return info_; }

 private:
  double validation_loss(MatrixView x, const std::vector<float>& y) const {
    std::vector<float> pred;
    predict(x, pred);
    double loss = 0.0;
    if (model_.task == Task::kRegression) {
      for (size_t i = 0; i < y.size(); ++i) loss += (pred[i] - y[i]) * double(pred[i] - y[i]);
    } else {
      const int k = model_.num_classes;
      for (size_t i = 0; i < y.size(); ++i)
        loss -= std::log(std::max(1e-15, double(pred[i * k + static_cast<int>(y[i])])));
    }
    return loss / static_cast<double>(y.size());
  }

  LinearModel model_;
  bool fitted_ = false;
  nlohmann::json info_ = nlohmann::json::object();
};

}  // namespace

const ParamTable& linear_param_table() {
  static const ParamTable table = {
      {"l2",
       ParamType::kLogFloat,
       1.0,
       1e-6,
       1e3,
       {},
       "L2 penalty on standardized weights (intercept unpenalized): ridge alpha, or 1/C of "
       "logistic regression; its weight per row falls as 1/rows"},
      {"max_iter",
       ParamType::kInt,
       200,
       10,
       2000,
       {},
       "most L-BFGS iterations for logistic regression (ridge is closed form)"},
      {"class_weight",
       ParamType::kChoice,
       "none",
       0,
       0,
       {"none", "balanced"},
       "classification: 'balanced' weights each class by rows / (classes * class rows)"},
  };
  return table;
}

const LearnerInfo& linear_learner_info() {
  static const LearnerInfo info = [] {
    LearnerInfo i;
    i.name = "linear";
    i.title = "regularised linear model (ridge / logistic regression)";
    i.make = [] { return std::unique_ptr<Learner>(std::make_unique<LinearLearner>()); };
    i.params = linear_param_table;
    i.shap = ShapMethod::kLinear;
    return i;
  }();
  return info;
}

}  // namespace tabpilot
