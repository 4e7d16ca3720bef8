// The "xgboost" learner: gradient-boosted trees through XGBoost's C API (1.7), trained one
// round at a time so that early stopping, pruning reports and the stop token all act per
// round. GPU training (gpu_hist) is used when asked for and libxgboost was built with CUDA.
// The booster plumbing it shares with the random forest is in xgboost_booster.h.
//
// Thread safety: predict() on a const learner may be called from many threads at once
// (in-place prediction; the model finishes XGBoost's lazy configuration before any caller).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner_factories.h"
#include "tabpilot/trainer/xgboost_booster.h"

namespace tabpilot {
namespace {

// Serialized header: magic, then task, classes, features, best iteration, rounds, threads.
constexpr char kMagic[8] = {'T', 'P', 'X', 'G', 'B', '0', '0', '1'};
constexpr size_t kHeaderFields = 6;

const ParamTable& xgboost_param_table();

class XGBoostLearner final : public Learner {
 public:
  std::string name() const override { return "xgboost"; }

  void fit(const FitData& data, const Params& params, const FitContext& ctx) override {
    const Params p = resolve_params(xgboost_param_table(), params);
    validate(data);
    const int threads = std::max(1, ctx.threads);
    const bool has_valid = data.x_valid.rows > 0;

    const std::string max_bin = p.at("max_bin").get<std::string>();
    xgb::DMatrix dtrain =
        xgb::make_quantile_dmatrix(data.x_train, data.y_train, threads, max_bin, nullptr);
    xgb::DMatrix dvalid;
    if (has_valid)
      dvalid =
          xgb::make_quantile_dmatrix(data.x_valid, data.y_valid, threads, max_bin, dtrain.get());

    xgb::Booster b;
    DMatrixHandle cache[2] = {dtrain.get(), has_valid ? dvalid.get() : nullptr};
    xgb::check(XGBoosterCreate(cache, has_valid ? 2 : 1, b.out()), "creating booster");
    const std::string eval_metric = xgb::set_objective(b, data.task, data.num_classes);
    b.set("eval_metric", eval_metric);
    b.set("nthread", std::to_string(threads));
    // XGBoost parses the seed as a signed 64-bit integer: keep it in range.
    b.set("seed", std::to_string(ctx.seed & 0x7fffffffffffffffull));
    b.set("verbosity", "0");
    xgb::set_device(b, ctx.device);
    for (const char* key :
         {"eta", "min_child_weight", "subsample", "colsample_bytree", "lambda", "alpha", "gamma"})
      b.set(key, xgb::number(p.at(key).get<double>()));
    b.set("max_depth", std::to_string(p.at("max_depth").get<int64_t>()));
    b.set("max_bin", max_bin);

    const int num_round = static_cast<int>(p.at("num_round").get<int64_t>());
    const int patience = static_cast<int>(p.at("early_stopping_rounds").get<int64_t>());
    // Without a validation set the reported value is the training metric and every round
    // counts as the best one.
    DMatrixHandle eval_set[1] = {has_valid ? dvalid.get() : dtrain.get()};
    const char* eval_name[1] = {has_valid ? "valid" : "train"};

    double best_value = std::numeric_limits<double>::infinity();
    int best = -1, rounds = 0;
    for (int it = 0; it < num_round; ++it) {
      xgb::check(XGBoosterUpdateOneIter(b.get(), it, dtrain.get()), "boosting round");
      rounds = it + 1;
      const char* eval = nullptr;
      xgb::check(XGBoosterEvalOneIter(b.get(), it, eval_set, eval_name, 1, &eval), "evaluation");
      double value = xgb::parse_eval(eval);
      if (!std::isfinite(value))
        throw std::runtime_error("xgboost: non-finite " + eval_metric + " at round " +
                                 std::to_string(it));
      if (!has_valid || value < best_value) best_value = value, best = it;
      if (ctx.report && !ctx.report(it, value)) break;
      if (ctx.stop.should_stop()) break;
      if (has_valid && it - best >= patience) break;
    }
    features_ = static_cast<int64_t>(data.x_train.cols);
    best_iteration_ = best;
    rounds_ = rounds;
    threads_ = threads;
    model_ = xgb::TreeModel(std::move(b), data.task, data.num_classes,
                            static_cast<int64_t>(data.x_train.cols), best + 1, threads);
  }

  void predict(MatrixView x, std::vector<float>& out) const override { model_.predict(x, out); }

  bool contributions(MatrixView x, std::vector<float>& out) const override {
    model_.contributions(x, out);
    return true;
  }

  std::vector<uint8_t> serialize() const override {
    if (!model_) throw std::logic_error("xgboost: serialize() before fit()");
    return model_.save(kMagic, {static_cast<int64_t>(model_.task()), model_.num_classes(),
                                features_, best_iteration_, rounds_, threads_});
  }

  void deserialize(const std::vector<uint8_t>& bytes) override {
    auto loaded = xgb::TreeModel::load(bytes, kMagic, kHeaderFields, "xgboost");
    const auto& f = loaded.fields;
    const int64_t task = f[0], k = f[1], features = f[2], best = f[3], rounds = f[4],
                  threads = f[5];
    if (task < 0 || task > 2 || k < 1 || features < 1 || best < -1 || rounds < 0 || threads < 1)
      throw InputError("xgboost: model header is corrupt; re-export the model");
    features_ = features;
    best_iteration_ = static_cast<int>(best);
    rounds_ = static_cast<int>(rounds);
    threads_ = static_cast<int>(threads);
    model_ = xgb::TreeModel(std::move(loaded.booster), static_cast<Task>(task),
                            static_cast<int>(k), features, best_iteration_ + 1, threads_);
  }

  nlohmann::json fit_info() const override {
    return {{"best_iteration", best_iteration_}, {"rounds", rounds_}};
  }

 private:
  static void validate(const FitData& d) {
    if (!d.y_train) throw std::invalid_argument("xgboost: y_train is missing");
    if (d.x_train.rows == 0) throw InputError("xgboost: the training set has no rows");
    if (d.x_train.cols == 0) throw InputError("xgboost: the training set has no feature columns");
    if (d.task == Task::kBinary && d.num_classes != 2)
      throw std::invalid_argument("xgboost: binary task needs num_classes = 2");
    if (d.task == Task::kMulticlass && d.num_classes < 2)
      throw std::invalid_argument("xgboost: multiclass task needs num_classes >= 2");
    const int k = d.task == Task::kRegression ? 1 : d.num_classes;
    xgb::check_labels(*d.y_train, d.x_train.rows, d.task, k, "training set");
    if (d.x_valid.rows > 0) {
      if (!d.y_valid) throw std::invalid_argument("xgboost: y_valid is missing");
      if (d.x_valid.cols != d.x_train.cols)
        throw std::invalid_argument("xgboost: validation set has " +
                                    std::to_string(d.x_valid.cols) + " columns, training set " +
                                    std::to_string(d.x_train.cols));
      xgb::check_labels(*d.y_valid, d.x_valid.rows, d.task, k, "validation set");
    }
  }

  xgb::TreeModel model_;
  int64_t features_ = 0;
  int best_iteration_ = -1;
  int rounds_ = 0;
  int threads_ = 1;
};

const ParamTable& xgboost_param_table() {
  using T = ParamType;
  static const ParamTable table = {
      {"num_round", T::kInt, 500, 10, 2000, {}, "most boosting rounds; early stopping decides"},
      {"early_stopping_rounds",
       T::kInt,
       30,
       5,
       100,
       {},
       "stop after this many rounds without a better validation loss"},
      {"eta", T::kLogFloat, 0.1, 0.005, 0.5, {}, "learning rate (shrinkage per tree)"},
      {"max_depth", T::kInt, 6, 2, 12, {}, "maximum depth of a tree"},
      {"min_child_weight", T::kLogFloat, 1.0, 0.01, 100, {}, "minimum sum of hessians in a leaf"},
      {"subsample", T::kFloat, 1.0, 0.5, 1.0, {}, "fraction of rows sampled per tree"},
      {"colsample_bytree", T::kFloat, 1.0, 0.3, 1.0, {}, "fraction of columns sampled per tree"},
      {"lambda", T::kLogFloat, 1.0, 1e-3, 100, {}, "L2 regularisation of leaf weights"},
      {"alpha", T::kLogFloat, 1e-6, 1e-6, 10, {}, "L1 regularisation of leaf weights"},
      {"gamma", T::kLogFloat, 1e-6, 1e-6, 5, {}, "minimum loss reduction to split a leaf"},
      {"max_bin", T::kChoice, "256", 0, 0, {"64", "128", "256"}, "histogram bins per feature"},
  };
  return table;
}

// A refit on all rows has no rows to stop early on: 10% more rounds than early stopping
// kept, for the 25% more rows.
Params refit_params(const Params& params, const nlohmann::json& fit_info) {
  if (!fit_info.contains("best_iteration")) return params;
  return with_int_param(xgboost_param_table(), params, "num_round",
                        (fit_info["best_iteration"].get<double>() + 1) * 1.1);
}

}  // namespace

const LearnerInfo& xgboost_learner_info() {
  static const LearnerInfo info = [] {
    LearnerInfo i;
    i.name = "xgboost";
    i.title = "gradient-boosted trees (XGBoost)";
    i.make = [] { return std::unique_ptr<Learner>(std::make_unique<XGBoostLearner>()); };
    i.params = xgboost_param_table;
    i.refit_params = refit_params;
    i.cost_params = {"num_round"};
    i.shap = ShapMethod::kTree;
    i.gpu = xgb::has_cuda();
    i.runtime = xgb::describe_library;
    return i;
  }();
  return info;
}

}  // namespace tabpilot
