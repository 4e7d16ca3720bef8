// The "random_forest" learner: bagged deep trees through XGBoost's random-forest mode (one
// round of num_parallel_tree trees, learning rate 1, row subsampling per tree, column
// subsampling per split). Every tree fits the target itself (squared error), so a forest's
// prediction is the average of its trees' leaf means — for classification one forest per
// class fits the class indicator and the leaves hold class frequencies, as a scikit-learn
// forest's predict_proba does (XGBoost's own logistic forests squash a pure leaf to 0.88).
// Exact TreeSHAP for regression; classification is explained by Kernel SHAP.
//
// The forest trains in one XGBoost call: the stop token is honoured before it, not inside;
// the search space keeps that call short (candidate policy narrows it on large data).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner_factories.h"
#include "tabpilot/trainer/xgboost_booster.h"

namespace tabpilot {
namespace {

// Header: magic, task, classes, features, threads, forests; then per forest its byte count
// and a TreeModel of its own.
constexpr char kMagic[8] = {'T', 'P', 'X', 'R', 'F', '0', '0', '1'};
constexpr char kForestMagic[8] = {'T', 'P', 'R', 'F', 'T', 'R', 'E', 'E'};
constexpr size_t kHeaderFields = 5;

const ParamTable& forest_param_table() {
  using T = ParamType;
  static const ParamTable table = {
      {"n_trees", T::kLogInt, 300, 30, 1000, {}, "trees in the forest"},
      {"max_depth", T::kInt, 12, 3, 20, {}, "maximum depth of a tree"},
      {"min_child_weight", T::kLogFloat, 1.0, 1.0, 30, {}, "fewest rows in a leaf"},
      {"subsample", T::kFloat, 0.8, 0.3, 1.0, {}, "fraction of rows each tree sees"},
      {"colsample_bynode", T::kFloat, 0.6, 0.1, 1.0, {}, "fraction of columns tried per split"},
  };
  return table;
}

class RandomForestLearner final : public Learner {
 public:
  std::string name() const override { return "random_forest"; }

  void fit(const FitData& data, const Params& params, const FitContext& ctx) override {
    const Params p = resolve_params(forest_param_table(), params);
    if (!data.y_train) throw std::invalid_argument("random_forest: y_train is missing");
    if (data.x_train.rows == 0) throw InputError("random_forest: the training set has no rows");
    if (data.x_train.cols == 0)
      throw InputError("random_forest: the training set has no feature columns");
    const int k = data.task == Task::kRegression ? 1 : data.num_classes;
    if (data.task != Task::kRegression && k < 2)
      throw std::invalid_argument("random_forest: classification needs num_classes >= 2");
    xgb::check_labels(*data.y_train, data.x_train.rows, data.task, k, "training set");
    const int threads = std::max(1, ctx.threads);
    task_ = data.task;
    num_classes_ = k;
    features_ = static_cast<int64_t>(data.x_train.cols);
    threads_ = threads;
    trees_ = static_cast<int>(p.at("n_trees").get<int64_t>());

    // Regression: one forest on y. Classification: one forest per class on its indicator
    // (binary: class 1's only, class 0 is the rest).
    const int forests = data.task == Task::kMulticlass ? k : 1;
    forests_.clear();
    for (int f = 0; f < forests; ++f) {
      const int cls = data.task == Task::kBinary ? 1 : f;
      std::vector<float> target(*data.y_train);
      double base = 0;
      if (data.task == Task::kRegression) {
        base = std::accumulate(target.begin(), target.end(), 0.0) / double(target.size());
      } else {
        for (float& v : target) v = v == static_cast<float>(cls) ? 1.0f : 0.0f;
      }
      xgb::DMatrix d = xgb::make_quantile_dmatrix(data.x_train, &target, threads, "256", nullptr);
      xgb::Booster b;
      DMatrixHandle cache[1] = {d.get()};
      xgb::check(XGBoosterCreate(cache, 1, b.out()), "creating booster");
      b.set("objective", "reg:squarederror");
      b.set("base_score", xgb::number(base));
      b.set("nthread", std::to_string(threads));
      b.set("seed", std::to_string((ctx.seed + static_cast<uint64_t>(f)) & 0x7fffffffffffffffull));
      b.set("verbosity", "0");
      xgb::set_device(b, ctx.device);
      b.set("eta", "1");
      b.set("lambda", "1e-5");  // leaves hold (almost exactly) the mean of their rows
      b.set("num_parallel_tree", std::to_string(trees_));
      b.set("max_depth", std::to_string(p.at("max_depth").get<int64_t>()));
      b.set("max_bin", "256");
      for (const char* key : {"min_child_weight", "subsample", "colsample_bynode"})
        b.set(key, xgb::number(p.at(key).get<double>()));
      xgb::check(XGBoosterUpdateOneIter(b.get(), 0, d.get()), "growing the forest");
      forests_.emplace_back(std::move(b), Task::kRegression, 1, features_, 1, threads);
    }
    if (ctx.report && data.x_valid.rows > 0 && data.y_valid) {
      std::vector<float> pred;
      predict(data.x_valid, pred);
      ctx.report(0, validation_loss(*data.y_valid, pred));
    }
  }

  void predict(MatrixView x, std::vector<float>& out) const override {
    if (forests_.empty()) throw std::logic_error("random_forest: predict() before fit()");
    if (task_ == Task::kRegression) return forests_[0].predict(x, out);
    const size_t k = static_cast<size_t>(num_classes_);
    out.assign(x.rows * k, 0.0f);
    std::vector<float> v;
    if (task_ == Task::kBinary) {
      forests_[0].predict(x, v);
      for (size_t i = 0; i < x.rows; ++i) {
        const float p1 = std::clamp(v[i], 0.0f, 1.0f);
        out[2 * i] = 1.0f - p1;
        out[2 * i + 1] = p1;
      }
      return;
    }
    for (size_t c = 0; c < k; ++c) {
      forests_[c].predict(x, v);
      for (size_t i = 0; i < x.rows; ++i) out[i * k + c] = std::clamp(v[i], 0.0f, 1.0f);
    }
    // Each class's forest saw its own indicator: the frequencies sum to about one; make it so.
    for (size_t i = 0; i < x.rows; ++i) {
      float* row = out.data() + i * k;
      const float sum = std::accumulate(row, row + k, 0.0f);
      for (size_t c = 0; c < k; ++c) row[c] = sum > 0 ? row[c] / sum : 1.0f / float(k);
    }
  }

  // TreeSHAP of the forest's value (regression); classification forests predict clipped,
  // normalised frequencies, which TreeSHAP does not explain: Kernel SHAP does.
  bool contributions(MatrixView x, std::vector<float>& out) const override {
    if (task_ != Task::kRegression || forests_.empty()) return false;
    forests_[0].contributions(x, out);
    return true;
  }

  std::vector<uint8_t> serialize() const override {
    if (forests_.empty()) throw std::logic_error("random_forest: serialize() before fit()");
    std::vector<uint8_t> out(kMagic, kMagic + sizeof(kMagic));
    for (int64_t v : {static_cast<int64_t>(task_), static_cast<int64_t>(num_classes_), features_,
                      static_cast<int64_t>(threads_), static_cast<int64_t>(forests_.size())})
      xgb::put_i64(out, v);
    xgb::put_i64(out, trees_);
    for (const auto& f : forests_) {
      const std::vector<uint8_t> bytes = f.save(kForestMagic, {});
      xgb::put_i64(out, static_cast<int64_t>(bytes.size()));
      out.insert(out.end(), bytes.begin(), bytes.end());
    }
    return out;
  }

  void deserialize(const std::vector<uint8_t>& bytes) override {
    const size_t header = sizeof(kMagic) + 8 * (kHeaderFields + 1);
    if (bytes.size() <= header || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
      throw InputError("random_forest: model bytes are not a tabpilot random forest (bad header)");
    const uint8_t* h = bytes.data() + sizeof(kMagic);
    const int64_t task = xgb::get_i64(h), k = xgb::get_i64(h + 8), features = xgb::get_i64(h + 16),
                  threads = xgb::get_i64(h + 24), forests = xgb::get_i64(h + 32), trees = xgb::get_i64(h + 40);
    if (task < 0 || task > 2 || k < 1 || features < 1 || threads < 1 || forests < 1 ||
        forests > 10000 || trees < 1)
      throw InputError("random_forest: model header is corrupt; re-export the model");
    std::vector<xgb::TreeModel> loaded;
    size_t at = header;
    for (int64_t f = 0; f < forests; ++f) {
      if (at + 8 > bytes.size()) throw InputError("random_forest: model bytes are truncated");
      const auto len = static_cast<size_t>(xgb::get_i64(bytes.data() + at));
      at += 8;
      if (len > bytes.size() - at) throw InputError("random_forest: model bytes are truncated");
      std::vector<uint8_t> part(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                                bytes.begin() + static_cast<std::ptrdiff_t>(at + len));
      at += len;
      auto l = xgb::TreeModel::load(part, kForestMagic, 0, "random_forest");
      loaded.emplace_back(std::move(l.booster), Task::kRegression, 1, features, 1,
                          static_cast<int>(threads));
    }
    forests_ = std::move(loaded);
    task_ = static_cast<Task>(task);
    num_classes_ = static_cast<int>(k);
    features_ = features;
    threads_ = static_cast<int>(threads);
    trees_ = static_cast<int>(trees);
  }

  nlohmann::json fit_info() const override { return {{"trees", trees_}}; }

 private:
  // What the learning curve shows: RMSE, or the log loss of the probabilities.
  double validation_loss(const std::vector<float>& y, const std::vector<float>& pred) const {
    double s = 0;
    const size_t n = y.size(), k = static_cast<size_t>(num_classes_);
    for (size_t i = 0; i < n; ++i) {
      if (task_ == Task::kRegression) {
        s += (pred[i] - y[i]) * (pred[i] - y[i]);
      } else {
        s -= std::log(std::max(1e-7, double(pred[i * k + static_cast<size_t>(y[i])])));
      }
    }
    s /= std::max<size_t>(n, 1);
    return task_ == Task::kRegression ? std::sqrt(s) : s;
  }

  std::vector<xgb::TreeModel> forests_;
  Task task_ = Task::kRegression;
  int num_classes_ = 1;
  int64_t features_ = 0;
  int threads_ = 1;
  int trees_ = 0;
};

}  // namespace

const LearnerInfo& random_forest_learner_info() {
  static const LearnerInfo info = [] {
    LearnerInfo i;
    i.name = "random_forest";
    i.title = "random forest (XGBoost's random-forest mode)";
    i.make = [] { return std::unique_ptr<Learner>(std::make_unique<RandomForestLearner>()); };
    i.params = forest_param_table;
    i.cost_params = {"n_trees", "max_depth"};
    i.shap = ShapMethod::kTree;
    i.gpu = xgb::has_cuda();
    i.runtime = xgb::describe_library;
    return i;
  }();
  return info;
}

}  // namespace tabpilot
