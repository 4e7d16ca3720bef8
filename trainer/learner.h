// The Learner interface and the registry of learners by name ("linear", "xgboost", "mlp").
// A learner fits on a dense matrix and predicts values (regression) or class probabilities.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/common/stop_token.h"
#include "tabpilot/data/problem_type.h"
#include "tabpilot/kernels/matrix.h"
#include "tabpilot/trainer/hyperparams.h"

namespace tabpilot {

struct FitData {
  MatrixView x_train;
  const std::vector<float>* y_train = nullptr;  // regression value, or class index as float
  MatrixView x_valid;                           // may have 0 rows: then no early stopping
  const std::vector<float>* y_valid = nullptr;
  Task task = Task::kRegression;
  int num_classes = 1;  // 1 for regression, >= 2 for classification
};

struct FitContext {
  int threads = 1;
  uint64_t seed = 0;
  Device device;  // where to train; learners without a GPU path use the CPU and say so
  StopToken stop;  // polled once per epoch / boosting round
  // Intermediate validation loss per step (epoch or round), for pruners and progress.
  // Returns false to ask the learner to stop early (pruned).
  std::function<bool(int step, double value)> report;
};

class Learner {
 public:
  virtual ~Learner() = default;
  virtual std::string name() const = 0;
  // Trains from scratch. Throws std::runtime_error (e.g. "non-finite loss at epoch 3") on
  // failure. Stops early, keeping the best state so far, when ctx.stop says so.
  virtual void fit(const FitData& data, const Params& params, const FitContext& ctx) = 0;
  // Regression: out[rows]. Classification: out[rows * num_classes], probabilities that sum
  // to 1 per row.
  virtual void predict(MatrixView x, std::vector<float>& out) const = 0;
  // Opaque weights and the fields needed to restore them.
  virtual std::vector<uint8_t> serialize() const = 0;
  virtual void deserialize(const std::vector<uint8_t>& bytes) = 0;
  // What fit settled on (e.g. best iteration), recorded with the trial.
  virtual nlohmann::json fit_info() const { return nlohmann::json::object(); }
  // Exact SHAP values, when the learner can compute them (XGBoost's TreeSHAP, the linear
  // model's w_j * (x_j - mean_j)); false otherwise. In margin space: one output for
  // regression (the value) and binary (log-odds of class 1), one per class for multiclass
  // (softmax inputs). out[(row * outputs + o) * (cols + 1) + j], j = cols the bias (expected
  // margin); each row's values sum to its margin.
  virtual bool contributions(MatrixView /*x*/, std::vector<float>& /*out*/) const { return false; }
};

// One trial of a batch trained together (LearnerInfo::fit_batch): its learner, or why it
// failed.
struct BatchFitResult {
  std::unique_ptr<Learner> learner;  // null when this trial failed
  std::string error;
};

// Which exact SHAP a learner's contributions() computes, by the name explanations give it.
enum class ShapMethod { kNone, kTree, kLinear };
std::string_view to_string(ShapMethod m);  // "none", "tree_shap", "linear_shap"

// What the job needs to know about a learner, kept with the learner (its own file) and listed
// in the registry (learner.cpp): nothing outside trainer/ asks for a learner by its name.
struct LearnerInfo {
  std::string name;   // "xgboost": candidate definitions, model.json, reports
  std::string title;  // "gradient-boosted trees (XGBoost)", for people
  std::unique_ptr<Learner> (*make)() = nullptr;
  const ParamTable& (*params)() = nullptr;
  // A refit on every row has no validation rows to stop early on: the params with the size
  // that the trial's early stopping chose (its fit_info), e.g. num_round from best_iteration.
  // Null: the params as they are.
  Params (*refit_params)(const Params& params, const nlohmann::json& fit_info) = nullptr;
  // Several trials trained as one batch (one strided-batched run on a GPU), and the
  // parameters the trials of a batch must share. Null: one trial at a time.
  std::vector<BatchFitResult> (*fit_batch)(const FitData& data, const std::vector<Params>& params,
                                           const std::vector<uint64_t>& seeds,
                                           const FitContext& ctx) = nullptr;
  std::vector<std::string> batch_keys;
  // Parameters whose growth makes a trial slower (rounds, epochs, width): a cost-aware
  // sampler keeps them at their defaults until the candidate proves itself.
  std::vector<std::string> cost_params;
  ShapMethod shap = ShapMethod::kNone;
  bool gpu = false;  // trains on a GPU slot's device (the others use the slot's host threads)
  // The library behind it and whether it can use a GPU ("XGBoost 1.7.4 (CPU only)"), for
  // tabpilot --version and the job log. Null: tabpilot's own code.
  std::string (*runtime)() = nullptr;
};

// The registry, in the order candidates list learners; an unknown name throws InputError
// listing the known ones.
const LearnerInfo& learner_info(std::string_view learner);
const std::vector<const LearnerInfo*>& registered_learners();
const ParamTable& learner_params(std::string_view learner);
std::unique_ptr<Learner> make_learner(std::string_view learner);
std::vector<std::string> learner_names();
// The distinct runtime descriptions (LearnerInfo::runtime) of these learners, in order.
std::vector<std::string> learner_runtimes(const std::vector<std::string>& learners);

}  // namespace tabpilot
