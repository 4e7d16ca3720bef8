// The "xgboost" learner: gradient-boosted trees through XGBoost's C API (1.7), trained one
// round at a time so that early stopping, pruning reports and the stop token all act per
// round. GPU training (gpu_hist) is used when asked for and libxgboost was built with CUDA.
//
// Thread safety: predict() on a const learner may be called from many threads at once. It
// uses XGBoosterPredictFromDense (in-place prediction), which XGBoost documents as thread
// safe: each call builds its own proxy matrix and XGBoost keeps the output buffer per thread.
// The booster is fully configured before any predict() can run (fit() and deserialize() both
// finish with a prediction), so concurrent calls never race on XGBoost's lazy configuration.
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/trainer/learner_factories.h"

namespace tabpilot {
namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("xgboost: ") + what + ": " + XGBGetLastError());
}

class DMatrix {
 public:
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrix(DMatrix&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  DMatrix& operator=(DMatrix&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~DMatrix() {
    if (h_) XGDMatrixFree(h_);
  }
  DMatrixHandle get() const { return h_; }
  DMatrixHandle* out() { return &h_; }

 private:
  DMatrixHandle h_ = nullptr;
};

class Booster {
 public:
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  Booster(Booster&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  Booster& operator=(Booster&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~Booster() {
    if (h_) XGBoosterFree(h_);
  }
  BoosterHandle get() const { return h_; }
  BoosterHandle* out() { return &h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void set(const std::string& key, const std::string& value) {
    check(XGBoosterSetParam(h_, key.c_str(), value.c_str()), ("set " + key).c_str());
  }

 private:
  BoosterHandle h_ = nullptr;
};

// XGBoost wants contiguous rows; views with padding are copied once.
// A QuantileDMatrix straight from our float matrix: XGBoost bins the values while reading
// them through a one-batch iterator, so it never holds a second copy of the data (a DMatrix
// from XGDMatrixCreateFromMat keeps a CSR copy, 8 bytes per value). `ref` (the training
// matrix) gives the validation matrix the training matrix's bins.
struct OneBatchIter {
  MatrixView x;
  const std::vector<float>* y = nullptr;
  DMatrixHandle proxy = nullptr;
  bool served = false;
  std::string array_interface;
};

void one_batch_reset(DataIterHandle handle) { static_cast<OneBatchIter*>(handle)->served = false; }

int one_batch_next(DataIterHandle handle) {
  auto* it = static_cast<OneBatchIter*>(handle);
  if (it->served) return 0;
  const MatrixView& x = it->x;
  it->array_interface =
      "{\"data\": [" + std::to_string(reinterpret_cast<uintptr_t>(x.data)) +
      ", true], \"shape\": [" + std::to_string(x.rows) + ", " + std::to_string(x.cols) +
      "], \"strides\": [" + std::to_string(x.stride * sizeof(float)) + ", " +
      std::to_string(sizeof(float)) + "], \"typestr\": \"<f4\", \"version\": 3}";
  if (XGProxyDMatrixSetDataDense(it->proxy, it->array_interface.c_str()) != 0) return -1;
  if (it->y && XGDMatrixSetFloatInfo(it->proxy, "label", it->y->data(), it->y->size()) != 0)
    return -1;
  it->served = true;
  return 1;
}

DMatrix make_quantile_dmatrix(MatrixView x, const std::vector<float>* y, int threads,
                              const std::string& max_bin, DMatrixHandle ref) {
  if (!x.device.is_cpu())
    throw std::invalid_argument("xgboost learner expects a host matrix, got one on " +
                                x.device.str());
  DMatrix proxy;
  check(XGProxyDMatrixCreate(proxy.out()), "creating proxy DMatrix");
  OneBatchIter it;
  it.x = x;
  it.y = y;
  it.proxy = proxy.get();
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(threads) +
                             ", \"max_bin\": " + max_bin + "}";
  DMatrix m;
  check(XGQuantileDMatrixCreateFromCallback(&it, proxy.get(), ref, one_batch_reset,
                                            one_batch_next, config.c_str(), m.out()),
        "creating QuantileDMatrix");
  return m;
}

void check_labels(const std::vector<float>& y, size_t rows, Task task, int k, const char* set) {
  if (y.size() != rows)
    throw std::invalid_argument(std::string("xgboost: ") + set + " has " + std::to_string(rows) +
                                " rows but " + std::to_string(y.size()) + " labels");
  for (size_t i = 0; i < y.size(); ++i) {
    float v = y[i];
    bool ok = task == Task::kRegression
                  ? std::isfinite(v)
                  : (v >= 0 && v < static_cast<float>(k) && v == std::floor(v));
    if (!ok)
      throw InputError(std::string("xgboost: ") + set + " label at row " + std::to_string(i) +
                       " is " + std::to_string(v) +
                       (task == Task::kRegression
                            ? "; regression targets must be finite"
                            : "; expected a class index in [0, " + std::to_string(k) + ")"));
  }
}

bool xgboost_has_cuda() {
  static const bool has = [] {
    const char* info = nullptr;
    if (XGBuildInfo(&info) != 0 || !info) return false;
    try {
      auto j = nlohmann::json::parse(info);
      return j.value("USE_CUDA", false);
    } catch (const std::exception&) {
      return false;
    }
  }();
  return has;
}

// The value of the last "name:value" pair in "[3]\tvalid-rmse:0.5123".
double parse_eval(const char* s) {
  std::string text(s ? s : "");
  size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("xgboost: cannot read evaluation result '" + text + "'");
  return std::strtod(text.c_str() + colon + 1, nullptr);
}

// Serialized header: magic, then six little-endian int64 fields, then the UBJSON model.
constexpr char kMagic[8] = {'T', 'P', 'X', 'G', 'B', '0', '0', '1'};
constexpr size_t kHeaderFields = 6;

void put_i64(std::vector<uint8_t>& out, int64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

int64_t get_i64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return static_cast<int64_t>(v);
}

class XGBoostLearner final : public Learner {
 public:
  std::string name() const override { return "xgboost"; }

  void fit(const FitData& data, const Params& params, const FitContext& ctx) override {
    const Params p = resolve_params(xgboost_param_table(), params);
    validate(data);
    const int threads = std::max(1, ctx.threads);
    const bool has_valid = data.x_valid.rows > 0;

    const std::string max_bin = p.at("max_bin").get<std::string>();
    DMatrix dtrain = make_quantile_dmatrix(data.x_train, data.y_train, threads, max_bin, nullptr);
    DMatrix dvalid;
    if (has_valid)
      dvalid = make_quantile_dmatrix(data.x_valid, data.y_valid, threads, max_bin, dtrain.get());

    Booster b;
    DMatrixHandle cache[2] = {dtrain.get(), has_valid ? dvalid.get() : nullptr};
    check(XGBoosterCreate(cache, has_valid ? 2 : 1, b.out()), "creating booster");

    std::string eval_metric;
    switch (data.task) {
      case Task::kRegression:
        b.set("objective", "reg:squarederror");
        eval_metric = "rmse";
        break;
      case Task::kBinary:
        b.set("objective", "binary:logistic");
        eval_metric = "logloss";
        break;
      case Task::kMulticlass:
        b.set("objective", "multi:softprob");
        b.set("num_class", std::to_string(data.num_classes));
        eval_metric = "mlogloss";
        break;
    }
    b.set("eval_metric", eval_metric);
    b.set("nthread", std::to_string(threads));
    // XGBoost parses the seed as a signed 64-bit integer: keep it in range.
    b.set("seed", std::to_string(ctx.seed & 0x7fffffffffffffffull));
    b.set("verbosity", "0");
    set_device(b, ctx.device);
    for (const char* key :
         {"eta", "min_child_weight", "subsample", "colsample_bytree", "lambda", "alpha", "gamma"})
      b.set(key, number(p.at(key)));
    b.set("max_depth", std::to_string(p.at("max_depth").get<int64_t>()));
    b.set("max_bin", p.at("max_bin").get<std::string>());

    const int num_round = static_cast<int>(p.at("num_round").get<int64_t>());
    const int patience = static_cast<int>(p.at("early_stopping_rounds").get<int64_t>());
    // Without a validation set the reported value is the training metric and every round
    // counts as the best one.
    DMatrixHandle eval_set[1] = {has_valid ? dvalid.get() : dtrain.get()};
    const char* eval_name[1] = {has_valid ? "valid" : "train"};

    double best_value = std::numeric_limits<double>::infinity();
    int best = -1, rounds = 0;
    for (int it = 0; it < num_round; ++it) {
      check(XGBoosterUpdateOneIter(b.get(), it, dtrain.get()), "boosting round");
      rounds = it + 1;
      const char* eval = nullptr;
      check(XGBoosterEvalOneIter(b.get(), it, eval_set, eval_name, 1, &eval), "evaluation");
      double value = parse_eval(eval);
      if (!std::isfinite(value))
        throw std::runtime_error("xgboost: non-finite " + eval_metric + " at round " +
                                 std::to_string(it));
      if (!has_valid || value < best_value) best_value = value, best = it;
      if (ctx.report && !ctx.report(it, value)) break;
      if (ctx.stop.should_stop()) break;
      if (has_valid && it - best >= patience) break;
    }

    booster_ = std::move(b);
    task_ = data.task;
    num_classes_ = data.task == Task::kRegression ? 1 : data.num_classes;
    num_features_ = static_cast<int64_t>(data.x_train.cols);
    best_iteration_ = best;
    rounds_ = rounds;
    threads_ = threads;
    warm_up();
  }

  void predict(MatrixView x, std::vector<float>& out) const override {
    if (!booster_) throw std::logic_error("xgboost: predict() before fit() or deserialize()");
    if (static_cast<int64_t>(x.cols) != num_features_)
      throw std::invalid_argument("xgboost: model has " + std::to_string(num_features_) +
                                  " features, input has " + std::to_string(x.cols));
    if (!x.device.is_cpu())
      throw std::invalid_argument("xgboost learner expects a host matrix, got one on " +
                                  x.device.str());
    const size_t k = static_cast<size_t>(num_classes_);
    out.assign(x.rows * k, 0.0f);
    if (x.rows == 0) return;

    // __array_interface__ of the caller's rows; strides let padded views through uncopied.
    char values[256];
    std::snprintf(values, sizeof(values),
                  "{\"data\":[%llu,true],\"shape\":[%zu,%zu],\"strides\":[%zu,%zu],"
                  "\"typestr\":\"<f4\",\"version\":3}",
                  static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(x.data)), x.rows,
                  x.cols, x.stride * sizeof(float), sizeof(float));
    // nlohmann would write NaN as null; XGBoost's parser reads the literal NaN.
    const std::string config =
        "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":" +
        std::to_string(best_iteration_ + 1) +
        ",\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    check(XGBoosterPredictFromDense(booster_.get(), values, config.c_str(), nullptr, &shape, &dim,
                                    &result),
          "predict");
    if (task_ == Task::kBinary) {
      for (size_t i = 0; i < x.rows; ++i) {
        out[2 * i + 1] = result[i];
        out[2 * i] = 1.0f - result[i];
      }
    } else {
      std::memcpy(out.data(), result, out.size() * sizeof(float));
    }
  }

  // TreeSHAP through XGBoost (pred_contribs). Not in-place prediction: a DMatrix of a
  // contiguous copy, under a lock since this path is not documented as thread safe.
  bool contributions(MatrixView x, std::vector<float>& out) const override {
    if (!booster_) throw std::logic_error("xgboost: contributions() before fit()");
    if (static_cast<int64_t>(x.cols) != num_features_ || !x.device.is_cpu())
      throw std::invalid_argument("xgboost: contributions need a host matrix of " +
                                  std::to_string(num_features_) + " features");
    const size_t groups = task_ == Task::kMulticlass ? static_cast<size_t>(num_classes_) : 1;
    out.assign(x.rows * groups * (x.cols + 1), 0.0f);
    if (x.rows == 0) return true;
    std::vector<float> dense(x.rows * x.cols);
    for (size_t r = 0; r < x.rows; ++r) std::memcpy(&dense[r * x.cols], x.row(r), x.cols * 4);
    std::lock_guard<std::mutex> lock(contrib_mutex_);
    DMatrix d;
    check(XGDMatrixCreateFromMat(dense.data(), x.rows, x.cols,
                                 std::numeric_limits<float>::quiet_NaN(), d.out()),
          "contributions matrix");
    const std::string config =
        "{\"type\":2,\"training\":false,\"iteration_begin\":0,\"iteration_end\":" +
        std::to_string(best_iteration_ + 1) + ",\"strict_shape\":true}";
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    check(XGBoosterPredictFromDMatrix(booster_.get(), d.get(), config.c_str(), &shape, &dim,
                                      &result),
          "contributions");
    size_t total = 1;
    for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
    if (total != out.size())
      throw std::runtime_error("xgboost: contributions returned " + std::to_string(total) +
                               " values, expected " + std::to_string(out.size()));
    std::memcpy(out.data(), result, out.size() * sizeof(float));
    return true;
  }

  std::vector<uint8_t> serialize() const override {
    if (!booster_) throw std::logic_error("xgboost: serialize() before fit()");
    bst_ulong len = 0;
    const char* buf = nullptr;
    check(XGBoosterSaveModelToBuffer(booster_.get(), "{\"format\":\"ubj\"}", &len, &buf),
          "saving model");
    std::vector<uint8_t> out(kMagic, kMagic + sizeof(kMagic));
    for (int64_t v : {static_cast<int64_t>(task_), static_cast<int64_t>(num_classes_),
                      num_features_, static_cast<int64_t>(best_iteration_),
                      static_cast<int64_t>(rounds_), static_cast<int64_t>(threads_)})
      put_i64(out, v);
    out.insert(out.end(), buf, buf + len);
    return out;
  }

  void deserialize(const std::vector<uint8_t>& bytes) override {
    const size_t header = sizeof(kMagic) + 8 * kHeaderFields;
    if (bytes.size() <= header || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
      throw InputError(
          "xgboost: model bytes are not a tabpilot XGBoost model (bad header); "
          "re-export the model");
    const uint8_t* h = bytes.data() + sizeof(kMagic);
    int64_t task = get_i64(h), k = get_i64(h + 8), features = get_i64(h + 16),
            best = get_i64(h + 24), rounds = get_i64(h + 32), threads = get_i64(h + 40);
    if (task < 0 || task > 2 || k < 1 || features < 1 || best < -1 || rounds < 0 || threads < 1)
      throw InputError("xgboost: model header is corrupt; re-export the model");
    Booster b;
    check(XGBoosterCreate(nullptr, 0, b.out()), "creating booster");
    check(XGBoosterLoadModelFromBuffer(b.get(), bytes.data() + header, bytes.size() - header),
          "loading model");
    b.set("nthread", std::to_string(threads));
    booster_ = std::move(b);
    task_ = static_cast<Task>(task);
    num_classes_ = static_cast<int>(k);
    num_features_ = features;
    best_iteration_ = static_cast<int>(best);
    rounds_ = static_cast<int>(rounds);
    threads_ = static_cast<int>(threads);
    warm_up();
  }

  nlohmann::json fit_info() const override {
    return {{"best_iteration", best_iteration_}, {"rounds", rounds_}};
  }

 private:
  static std::string number(const nlohmann::json& v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", v.get<double>());
    return buf;
  }

  static void validate(const FitData& d) {
    if (!d.y_train) throw std::invalid_argument("xgboost: y_train is missing");
    if (d.x_train.rows == 0) throw InputError("xgboost: the training set has no rows");
    if (d.x_train.cols == 0) throw InputError("xgboost: the training set has no feature columns");
    if (d.task == Task::kBinary && d.num_classes != 2)
      throw std::invalid_argument("xgboost: binary task needs num_classes = 2");
    if (d.task == Task::kMulticlass && d.num_classes < 2)
      throw std::invalid_argument("xgboost: multiclass task needs num_classes >= 2");
    const int k = d.task == Task::kRegression ? 1 : d.num_classes;
    check_labels(*d.y_train, d.x_train.rows, d.task, k, "training set");
    if (d.x_valid.rows > 0) {
      if (!d.y_valid) throw std::invalid_argument("xgboost: y_valid is missing");
      if (d.x_valid.cols != d.x_train.cols)
        throw std::invalid_argument("xgboost: validation set has " +
                                    std::to_string(d.x_valid.cols) + " columns, training set " +
                                    std::to_string(d.x_train.cols));
      check_labels(*d.y_valid, d.x_valid.rows, d.task, k, "validation set");
    }
  }

  static void set_device(Booster& b, const Device& device) {
    if (device.is_cuda() && xgboost_has_cuda()) {
      b.set("tree_method", "gpu_hist");
      b.set("gpu_id", std::to_string(device.ordinal));
      return;
    }
    b.set("tree_method", "hist");
    if (device.is_cuda()) {
      static std::once_flag once;
      std::call_once(once, [] {
        log::info(
            "xgboost: training on CPU because libxgboost was built without CUDA "
            "(USE_CUDA false in XGBuildInfo); install a CUDA build of libxgboost for GPU");
      });
    }
  }

  // One prediction so that XGBoost finishes its lazy configuration before concurrent callers.
  void warm_up() const {
    std::vector<float> row(static_cast<size_t>(std::max<int64_t>(num_features_, 1)),
                           std::numeric_limits<float>::quiet_NaN());
    std::vector<float> out;
    predict(MatrixView{row.data(), 1, static_cast<size_t>(num_features_),
                       static_cast<size_t>(num_features_), Device::cpu()},
            out);
  }

  Booster booster_;
  mutable std::mutex contrib_mutex_;
  Task task_ = Task::kRegression;
  int num_classes_ = 1;
  int64_t num_features_ = 0;
  int best_iteration_ = -1;
  int rounds_ = 0;
  int threads_ = 1;
};

}  // namespace

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

std::unique_ptr<Learner> make_xgboost_learner() { return std::make_unique<XGBoostLearner>(); }

}  // namespace tabpilot
