// The learner registry: one line per learner. A learner's knowledge (parameters, refit rule,
// batching, cost parameters, SHAP method, GPU path) is its own file's LearnerInfo.
#include "tabpilot/trainer/learner.h"

#include <algorithm>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner_factories.h"

namespace tabpilot {

std::string_view to_string(ShapMethod m) {
  switch (m) {
    case ShapMethod::kTree:
      return "tree_shap";
    case ShapMethod::kLinear:
      return "linear_shap";
    case ShapMethod::kNone:
      break;
  }
  return "none";
}

const std::vector<const LearnerInfo*>& registered_learners() {
  static const std::vector<const LearnerInfo*> entries = {
      &xgboost_learner_info(),
      &linear_learner_info(),
      &mlp_learner_info(),
      &random_forest_learner_info(),
  };
  return entries;
}

const LearnerInfo& learner_info(std::string_view name) {
  for (const LearnerInfo* e : registered_learners())
    if (name == e->name) return *e;
  std::string known;
  for (const LearnerInfo* e : registered_learners())
    known += (known.empty() ? "" : ", ") + e->name;
  throw InputError("unknown learner '" + std::string(name) + "' (known: " + known + ")");
}

const ParamTable& learner_params(std::string_view learner) {
  return learner_info(learner).params();
}

std::unique_ptr<Learner> make_learner(std::string_view learner) {
  return learner_info(learner).make();
}

std::vector<std::string> learner_names() {
  std::vector<std::string> out;
  for (const LearnerInfo* e : registered_learners()) out.push_back(e->name);
  return out;
}

std::vector<std::string> learner_runtimes(const std::vector<std::string>& learners) {
  std::vector<std::string> out;
  for (const auto& name : learners) {
    const LearnerInfo& info = learner_info(name);
    if (!info.runtime) continue;
    std::string d = info.runtime();
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace tabpilot
