#include "tabpilot/trainer/xgboost_booster.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"

namespace tabpilot::xgb {
namespace {

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

}  // namespace

void put_i64(std::vector<uint8_t>& out, int64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

int64_t get_i64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return static_cast<int64_t>(v);
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("xgboost: ") + what + ": " + XGBGetLastError());
}

void Booster::set(const std::string& key, const std::string& value) {
  check(XGBoosterSetParam(h_, key.c_str(), value.c_str()), ("set " + key).c_str());
}

DMatrix make_quantile_dmatrix(MatrixView x, const std::vector<float>* y, int threads,
                              const std::string& max_bin, DMatrixHandle ref) {
  if (!x.device.is_cpu())
    throw std::invalid_argument("xgboost learners expect a host matrix, got one on " +
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

bool has_cuda() {
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

int library_major() {
  static const int major = [] {
    int ma = 0, mi = 0, pa = 0;
    XGBoostVersion(&ma, &mi, &pa);
    return ma;
  }();
  return major;
}

std::string describe_library() {
  int ma = 0, mi = 0, pa = 0;
  XGBoostVersion(&ma, &mi, &pa);
  return "XGBoost " + std::to_string(ma) + "." + std::to_string(mi) + "." + std::to_string(pa) +
         (has_cuda() ? " (CUDA)" : " (CPU only)");
}

void set_device(Booster& b, const Device& device) {
  if (device.is_cuda() && has_cuda()) {
    if (library_major() >= 2) {
      b.set("device", "cuda:" + std::to_string(device.ordinal));
      b.set("tree_method", "hist");
    } else {
      b.set("tree_method", "gpu_hist");
      b.set("gpu_id", std::to_string(device.ordinal));
    }
    return;
  }
  b.set("tree_method", "hist");
  if (device.is_cuda()) {
    static std::once_flag once;
    std::call_once(once, [] {
      log::info(
          "xgboost: training on CPU because the loaded libxgboost has no CUDA (" +
          describe_library() +
          "); TABPILOT_XGBOOST_CUDA=1 ./scripts/setup.sh builds and links one with CUDA");
    });
  }
}

std::string set_objective(Booster& b, Task task, int num_classes) {
  switch (task) {
    case Task::kRegression:
      b.set("objective", "reg:squarederror");
      return "rmse";
    case Task::kBinary:
      b.set("objective", "binary:logistic");
      return "logloss";
    case Task::kMulticlass:
      b.set("objective", "multi:softprob");
      b.set("num_class", std::to_string(num_classes));
      return "mlogloss";
  }
  return "rmse";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

double parse_eval(const char* s) {
  std::string text(s ? s : "");
  size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("xgboost: cannot read evaluation result '" + text + "'");
  return std::strtod(text.c_str() + colon + 1, nullptr);
}

TreeModel::TreeModel(Booster booster, Task task, int num_classes, int64_t num_features,
                     int iteration_end, int threads)
    : booster_(std::move(booster)),
      task_(task),
      num_classes_(task == Task::kRegression ? 1 : num_classes),
      num_features_(num_features),
      iteration_end_(iteration_end),
      threads_(threads) {
  booster_.set("nthread", std::to_string(threads_));
  // Predictions read host rows: a model trained on a GPU predicts on the CPU (XGBoost 2+
  // would otherwise copy each batch to the device, and warn about the mismatch).
  if (library_major() >= 2) booster_.set("device", "cpu");
  warm_up();
}

TreeModel& TreeModel::operator=(TreeModel&& o) noexcept {
  booster_ = std::move(o.booster_);
  task_ = o.task_;
  num_classes_ = o.num_classes_;
  num_features_ = o.num_features_;
  iteration_end_ = o.iteration_end_;
  threads_ = o.threads_;
  return *this;
}

void TreeModel::predict(MatrixView x, std::vector<float>& out) const {
  if (!booster_) throw std::logic_error("xgboost: predict() before fit() or deserialize()");
  if (static_cast<int64_t>(x.cols) != num_features_)
    throw std::invalid_argument("xgboost: model has " + std::to_string(num_features_) +
                                " features, input has " + std::to_string(x.cols));
  if (!x.device.is_cpu())
    throw std::invalid_argument("xgboost learners expect a host matrix, got one on " +
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
      std::to_string(iteration_end_) + ",\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";
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

// Not in-place prediction: a DMatrix of a contiguous copy, under a lock since this path is not
// documented as thread safe.
void TreeModel::contributions(MatrixView x, std::vector<float>& out) const {
  if (!booster_) throw std::logic_error("xgboost: contributions() before fit()");
  if (static_cast<int64_t>(x.cols) != num_features_ || !x.device.is_cpu())
    throw std::invalid_argument("xgboost: contributions need a host matrix of " +
                                std::to_string(num_features_) + " features");
  const size_t groups = task_ == Task::kMulticlass ? static_cast<size_t>(num_classes_) : 1;
  out.assign(x.rows * groups * (x.cols + 1), 0.0f);
  if (x.rows == 0) return;
  std::vector<float> dense(x.rows * x.cols);
  for (size_t r = 0; r < x.rows; ++r) std::memcpy(&dense[r * x.cols], x.row(r), x.cols * 4);
  std::lock_guard<std::mutex> lock(contrib_mutex_);
  DMatrix d;
  check(XGDMatrixCreateFromMat(dense.data(), x.rows, x.cols,
                               std::numeric_limits<float>::quiet_NaN(), d.out()),
        "contributions matrix");
  const std::string config =
      "{\"type\":2,\"training\":false,\"iteration_begin\":0,\"iteration_end\":" +
      std::to_string(iteration_end_) + ",\"strict_shape\":true}";
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
}

std::vector<uint8_t> TreeModel::save(const char (&magic)[8],
                                     const std::vector<int64_t>& fields) const {
  if (!booster_) throw std::logic_error("xgboost: serialize() before fit()");
  bst_ulong len = 0;
  const char* buf = nullptr;
  check(XGBoosterSaveModelToBuffer(booster_.get(), "{\"format\":\"ubj\"}", &len, &buf),
        "saving model");
  std::vector<uint8_t> out(magic, magic + sizeof(magic));
  for (int64_t v : fields) put_i64(out, v);
  out.insert(out.end(), buf, buf + len);
  return out;
}

TreeModel::Loaded TreeModel::load(const std::vector<uint8_t>& bytes, const char (&magic)[8],
                                  size_t fields, const std::string& learner) {
  const size_t header = sizeof(magic) + 8 * fields;
  if (bytes.size() <= header || std::memcmp(bytes.data(), magic, sizeof(magic)) != 0)
    throw InputError(learner + ": model bytes are not a tabpilot " + learner +
                     " model (bad header); re-export the model");
  Loaded l;
  for (size_t i = 0; i < fields; ++i) l.fields.push_back(get_i64(bytes.data() + 8 + 8 * i));
  check(XGBoosterCreate(nullptr, 0, l.booster.out()), "creating booster");
  check(XGBoosterLoadModelFromBuffer(l.booster.get(), bytes.data() + header, bytes.size() - header),
        "loading model");
  return l;
}

void TreeModel::warm_up() const {
  std::vector<float> row(static_cast<size_t>(std::max<int64_t>(num_features_, 1)),
                         std::numeric_limits<float>::quiet_NaN());
  std::vector<float> out;
  predict(MatrixView{row.data(), 1, static_cast<size_t>(num_features_),
                     static_cast<size_t>(num_features_), Device::cpu()},
          out);
}

}  // namespace tabpilot::xgb
