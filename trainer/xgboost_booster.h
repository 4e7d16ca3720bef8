// What the XGBoost-based learners share (gradient boosting in xgboost_learner.cpp, the random
// forest in random_forest.cpp): RAII handles over XGBoost's C API (1.7), QuantileDMatrix
// construction without a second copy of the data, device selection, and a fitted tree model
// that predicts in place (thread safe), explains with TreeSHAP and serializes with a header of
// its own per learner.
#pragma once
#include <xgboost/c_api.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tabpilot/cuda/device.h"
#include "tabpilot/data/problem_type.h"
#include "tabpilot/kernels/matrix.h"

namespace tabpilot::xgb {

// Throws std::runtime_error "xgboost: <what>: <XGBGetLastError()>" when rc != 0.
void check(int rc, const char* what);

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
  void set(const std::string& key, const std::string& value);

 private:
  BoosterHandle h_ = nullptr;
};

// A QuantileDMatrix read from our float matrix through a one-batch iterator (no CSR copy).
// `ref` (the training matrix) gives a validation matrix the training matrix's bins.
DMatrix make_quantile_dmatrix(MatrixView x, const std::vector<float>* y, int threads,
                              const std::string& max_bin, DMatrixHandle ref);

// Labels: finite values (regression) or class indexes in [0, k); InputError otherwise.
void check_labels(const std::vector<float>& y, size_t rows, Task task, int k, const char* set);

// Whether the loaded libxgboost was built with CUDA (XGBuildInfo's USE_CUDA).
bool has_cuda();
// The loaded library's version (XGBoostVersion): 1.7 takes tree_method gpu_hist and gpu_id,
// 2.0 and later take device=cuda:N with tree_method hist.
int library_major();
// "XGBoost 1.7.4 (CPU only)" or "XGBoost 3.1.3 (CUDA)": what tabpilot --version and the job
// log say about the library they loaded.
std::string describe_library();
// Training on the slot's GPU when the library has CUDA, else on the CPU (said once).
void set_device(Booster& b, const Device& device);
// The objective and evaluation metric for a task; returns the metric's name.
std::string set_objective(Booster& b, Task task, int num_classes);
// "%.17g" of a JSON number, as XGBoost's parameter strings want it.
std::string number(double v);
// The value of the last "name:value" pair in "[3]\tvalid-rmse:0.5123".
double parse_eval(const char* s);

// Little-endian int64 fields of the serialized headers.
void put_i64(std::vector<uint8_t>& out, int64_t v);
int64_t get_i64(const uint8_t* p);

// A fitted booster with what predicting needs: task, classes, features and the rounds that
// count (iteration_end: predictions use rounds [0, iteration_end)).
class TreeModel {
 public:
  TreeModel() = default;
  // Sets the booster's nthread and finishes XGBoost's lazy configuration with one prediction,
  // so that concurrent predict() calls never race on it.
  TreeModel(Booster booster, Task task, int num_classes, int64_t num_features,
            int iteration_end, int threads);
  TreeModel(TreeModel&& o) noexcept { *this = std::move(o); }
  TreeModel& operator=(TreeModel&& o) noexcept;
  explicit operator bool() const { return static_cast<bool>(booster_); }

  // Regression: out[rows]; classification: rows * classes probabilities. Thread safe
  // (XGBoosterPredictFromDense builds its own proxy per call).
  void predict(MatrixView x, std::vector<float>& out) const;
  // TreeSHAP in margin space, out[(row * groups + g) * (cols + 1) + j].
  void contributions(MatrixView x, std::vector<float>& out) const;
  // Serialized: `magic` (8 bytes), `fields` as little-endian int64s, XGBoost's UBJSON model.
  std::vector<uint8_t> save(const char (&magic)[8], const std::vector<int64_t>& fields) const;
  struct Loaded {
    std::vector<int64_t> fields;
    Booster booster;
  };
  // What save() wrote: its fields and a booster loaded from the rest. InputError naming
  // `learner` when the magic or the size is wrong.
  static Loaded load(const std::vector<uint8_t>& bytes, const char (&magic)[8], size_t fields,
                     const std::string& learner);

  Task task() const { return task_; }
  int num_classes() const { return num_classes_; }
  int iteration_end() const { return iteration_end_; }

 private:
  void warm_up() const;

  Booster booster_;
  mutable std::mutex contrib_mutex_;  // pred_contribs is not documented as thread safe
  Task task_ = Task::kRegression;
  int num_classes_ = 1;
  int64_t num_features_ = 0;
  int iteration_end_ = 0;
  int threads_ = 1;
};

}  // namespace tabpilot::xgb
