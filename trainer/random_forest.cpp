// The "random_forest" learner: bagged deep trees through XGBoost's random-forest mode (one
// round of num_parallel_tree trees, learning rate 1, row subsampling per tree, column
// subsampling per split). Every tree fits the target itself (squared error), so a forest's
// prediction is the average of its trees' leaf means — for classification one forest per
// class fits the class indicator and the leaves hold class frequencies, as a scikit-learn
// forest's predict_proba does (XGBoost's own logistic forests squash a pure leaf to 0.88).
// Exact TreeSHAP for regression; classification is explained by Kernel SHAP.
//
// The forest grows in chunks of kChunkTrees trees, each chunk a booster of its own: the stop
// token is polled between chunks (a forest stopped early keeps the trees it has), the
// validation loss after each chunk is the learning curve, and the forest's prediction is the
// mean of its chunks' (equal sizes: the mean of all its trees).
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

// Header: magic, task, classes, features, threads, forests, trees, chunks per forest; then
// per chunk (forest-major) its byte count and a TreeModel of its own.
constexpr char kMagic[8] = {'T', 'P', 'X', 'R', 'F', '0', '0', '2'};
constexpr char kChunkMagic[8] = {'T', 'P', 'R', 'F', 'T', 'R', 'E', 'E'};
constexpr size_t kHeaderFields = 8;
constexpr int kChunkTrees = 25;

const ParamTable& forest_param_table() {
  using T = ParamType;
  static const ParamTable table = {
      {"n_trees", T::kLogInt, 100, 25, 400, {}, "trees in the forest"},
      {"max_depth", T::kInt, 12, 4, 16, {}, "maximum depth of a tree"},
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
    std::vector<std::vector<float>> targets(forests, *data.y_train);
    std::vector<double> base(forests, 0.0);
    std::vector<xgb::DMatrix> matrices;
    for (int f = 0; f < forests; ++f) {
      const int cls = data.task == Task::kBinary ? 1 : f;
      if (data.task == Task::kRegression) {
        base[f] = std::accumulate(targets[f].begin(), targets[f].end(), 0.0) /
                  double(targets[f].size());
      } else {
        for (float& v : targets[f]) v = v == static_cast<float>(cls) ? 1.0f : 0.0f;
      }
      matrices.push_back(
          xgb::make_quantile_dmatrix(data.x_train, &targets[f], threads, "256", nullptr));
    }
    forests_.clear();
    forests_.resize(static_cast<size_t>(forests));
    const int chunks = std::max(1, (trees_ + kChunkTrees - 1) / kChunkTrees);
    const int per_chunk = std::max(1, trees_ / chunks);
    for (int c = 0; c < chunks; ++c) {
      for (int f = 0; f < forests; ++f) {
        xgb::Booster b;
        DMatrixHandle cache[1] = {matrices[f].get()};
        xgb::check(XGBoosterCreate(cache, 1, b.out()), "creating booster");
        b.set("objective", "reg:squarederror");
        b.set("base_score", xgb::number(base[f]));
        b.set("nthread", std::to_string(threads));
        b.set("seed", std::to_string(
                          mix(ctx.seed, static_cast<uint64_t>(f) * 1000003 + c) & 0x7fffffffffffffffull));
        b.set("verbosity", "0");
        xgb::set_device(b, ctx.device);
        b.set("eta", "1");
        b.set("lambda", "1e-5");  // leaves hold (almost exactly) the mean of their rows
        b.set("num_parallel_tree", std::to_string(per_chunk));
        b.set("max_depth", std::to_string(p.at("max_depth").get<int64_t>()));
        b.set("max_bin", "256");
        for (const char* key : {"min_child_weight", "subsample", "colsample_bynode"})
          b.set(key, xgb::number(p.at(key).get<double>()));
        xgb::check(XGBoosterUpdateOneIter(b.get(), 0, matrices[f].get()), "growing the forest");
        forests_[f].emplace_back(std::move(b), Task::kRegression, 1, features_, 1, threads);
      }
      trees_grown_ = (c + 1) * per_chunk;
      bool go_on = true;
      if (ctx.report && data.x_valid.rows > 0 && data.y_valid) {
        std::vector<float> pred;
        predict(data.x_valid, pred);
        go_on = ctx.report(c, validation_loss(*data.y_valid, pred));
      }
      if (!go_on || ctx.stop.should_stop()) break;
    }
  }

  void predict(MatrixView x, std::vector<float>& out) const override {
    if (forests_.empty()) throw std::logic_error("random_forest: predict() before fit()");
    if (task_ == Task::kRegression) return forest_value(0, x, out);
    const size_t k = static_cast<size_t>(num_classes_);
    out.assign(x.rows * k, 0.0f);
    std::vector<float> v;
    if (task_ == Task::kBinary) {
      forest_value(0, x, v);
      for (size_t i = 0; i < x.rows; ++i) {
        const float p1 = std::clamp(v[i], 0.0f, 1.0f);
        out[2 * i] = 1.0f - p1;
        out[2 * i + 1] = p1;
      }
      return;
    }
    for (size_t c = 0; c < k; ++c) {
      forest_value(c, x, v);
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
    // The mean of the chunks' contributions: TreeSHAP is linear in the averaged models.
    std::vector<float> part;
    const auto& chunks = forests_[0];
    for (size_t c = 0; c < chunks.size(); ++c) {
      chunks[c].contributions(x, part);
      if (c == 0) out.assign(part.size(), 0.0f);
      for (size_t i = 0; i < part.size(); ++i) out[i] += part[i] / float(chunks.size());
    }
    return true;
  }

  std::vector<uint8_t> serialize() const override {
    if (forests_.empty()) throw std::logic_error("random_forest: serialize() before fit()");
    std::vector<uint8_t> out(kMagic, kMagic + sizeof(kMagic));
    for (int64_t v : {static_cast<int64_t>(task_), static_cast<int64_t>(num_classes_), features_,
                      static_cast<int64_t>(threads_), static_cast<int64_t>(forests_.size()),
                      static_cast<int64_t>(trees_), static_cast<int64_t>(trees_grown_),
                      static_cast<int64_t>(forests_[0].size())})
      xgb::put_i64(out, v);
    for (const auto& forest : forests_)
      for (const auto& chunk : forest) {
        const std::vector<uint8_t> bytes = chunk.save(kChunkMagic, {});
        xgb::put_i64(out, static_cast<int64_t>(bytes.size()));
        out.insert(out.end(), bytes.begin(), bytes.end());
      }
    return out;
  }

  void deserialize(const std::vector<uint8_t>& bytes) override {
    const size_t header = sizeof(kMagic) + 8 * kHeaderFields;
    if (bytes.size() <= header || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
      throw InputError("random_forest: model bytes are not a tabpilot random forest (bad header)");
    const uint8_t* h = bytes.data() + sizeof(kMagic);
    int64_t f[kHeaderFields];
    for (size_t i = 0; i < kHeaderFields; ++i) f[i] = xgb::get_i64(h + 8 * i);
    const int64_t task = f[0], k = f[1], features = f[2], threads = f[3], forests = f[4],
                  trees = f[5], grown = f[6], chunks = f[7];
    if (task < 0 || task > 2 || k < 1 || features < 1 || threads < 1 || forests < 1 ||
        forests > 10000 || trees < 1 || grown < 1 || chunks < 1 || chunks > 100000)
      throw InputError("random_forest: model header is corrupt; re-export the model");
    std::vector<std::vector<xgb::TreeModel>> loaded(static_cast<size_t>(forests));
    size_t at = header;
    for (auto& forest : loaded)
      for (int64_t c = 0; c < chunks; ++c) {
        if (at + 8 > bytes.size()) throw InputError("random_forest: model bytes are truncated");
        const auto len = static_cast<size_t>(xgb::get_i64(bytes.data() + at));
        at += 8;
        if (len > bytes.size() - at) throw InputError("random_forest: model bytes are truncated");
        std::vector<uint8_t> part(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                                  bytes.begin() + static_cast<std::ptrdiff_t>(at + len));
        at += len;
        auto l = xgb::TreeModel::load(part, kChunkMagic, 0, "random_forest");
        forest.emplace_back(std::move(l.booster), Task::kRegression, 1, features, 1,
                            static_cast<int>(threads));
      }
    forests_ = std::move(loaded);
    task_ = static_cast<Task>(task);
    num_classes_ = static_cast<int>(k);
    features_ = features;
    threads_ = static_cast<int>(threads);
    trees_ = static_cast<int>(trees);
    trees_grown_ = static_cast<int>(grown);
  }

  nlohmann::json fit_info() const override {
    return {{"trees", trees_grown_}, {"trees_asked", trees_}};
  }

 private:
  static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    return z ^ (z >> 31);
  }

  // Forest f's value: the mean of its chunks'.
  void forest_value(size_t f, MatrixView x, std::vector<float>& out) const {
    std::vector<float> part;
    const auto& chunks = forests_[f];
    for (size_t c = 0; c < chunks.size(); ++c) {
      chunks[c].predict(x, part);
      if (c == 0) out.assign(part.size(), 0.0f);
      for (size_t i = 0; i < part.size(); ++i) out[i] += part[i] / float(chunks.size());
    }
  }

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

  std::vector<std::vector<xgb::TreeModel>> forests_;  // [forest][chunk]
  Task task_ = Task::kRegression;
  int num_classes_ = 1;
  int64_t features_ = 0;
  int threads_ = 1;
  int trees_ = 0;        // asked for
  int trees_grown_ = 0;  // grown before the forest stopped
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
