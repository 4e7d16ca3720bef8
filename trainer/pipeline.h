// A fitted pipeline: input schema, label mapping, and one or more members (fitted feature
// transform + learner) whose predictions are averaged — one member for a hold-out trial,
// one per fold for cross-validation, weighted members of several trials for an ensemble. Training, batch predict and the endpoint all call
// Pipeline::predict: there is one prediction path.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/csv.h"
#include "tabpilot/data/problem_type.h"
#include "tabpilot/data/table.h"
#include "tabpilot/trainer/features.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {

inline constexpr const char* kModelFile = "model.json";

struct PipelineMember {
  FeatureTransform transform;
  std::unique_ptr<Learner> learner;
  std::string learner_name;
  Params params;
  // Share of this member in the pipeline's prediction. All zero (the default): members are
  // averaged equally (the folds of one trial). An ensemble sets them (they sum to 1).
  double weight = 0;
  std::string trial;  // the trial this member came from (ensembles: several trials)
};

class Pipeline {
 public:
  Task task = Task::kRegression;
  std::string target;
  std::string candidate;                  // candidate definition name
  std::vector<std::string> features;      // input columns, training order
  std::vector<ColumnType> feature_types;  // parallel to features
  std::vector<std::string> labels;        // classification: class index -> label text
  std::vector<PipelineMember> members;
  // Binary classification: class 1 is predicted when its probability is at least this. The
  // job tunes it on the validation predictions for threshold-sensitive objectives (F1,
  // accuracy, balanced accuracy); 0.5 otherwise.
  float decision_threshold = 0.5f;

  // The predicted class of one row's probabilities (arg-max; binary: the threshold).
  int predicted_class(const float* probs) const {
    const int k = num_classes();
    if (k == 2) return probs[1] >= decision_threshold ? 1 : 0;
    int best = 0;
    for (int c = 1; c < k; ++c)
      if (probs[c] > probs[best]) best = c;
    return best;
  }

  int num_classes() const { return is_classification(task) ? static_cast<int>(labels.size()) : 1; }
  // Each member's share of the prediction: the members' weights normalised to sum to 1, or
  // 1/n each when no member has a weight.
  std::vector<double> member_shares() const;
  // Regression: one value per row. Classification: rows * num_classes probabilities.
  std::vector<float> predict(const Table& table) const;
  // How to read new data for this pipeline: feature types forced to the training types.
  CsvOptions csv_options() const;

  // model.json (schema, labels, transforms, learners, checksums) + one weights file per
  // member, as file name -> bytes (what save() writes and a trial store keeps).
  std::map<std::string, std::string> to_files() const;
  // Writes to_files() into `dir`, which must exist (model.json last).
  void save(const std::filesystem::path& dir) const;
  // Verifies every checksum; a changed or truncated file is an InputError naming it.
  static Pipeline load(const std::filesystem::path& dir);
  // The same from files in memory; `where` names them in messages.
  static Pipeline from_files(const std::map<std::string, std::string>& files,
                             const std::string& where);

 private:
  static Pipeline from_files(const std::string& where,
                             const std::function<std::string(const std::string&)>& read);
};

}  // namespace tabpilot
