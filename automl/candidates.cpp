#include "tabpilot/automl/candidates.h"

#include <algorithm>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {

nlohmann::json CandidateDefinition::to_json() const {
  return {{"name", name},           {"learner", learner},
          {"recipe", recipe.to_json()}, {"transforms", recipe.describe()},
          {"search_space", space.to_json()}, {"rationale", rationale}};
}

std::vector<CandidateDefinition> generate_candidates(const DataProfile& profile, Task task,
                                                     size_t train_rows,
                                                     const CandidateOptions& options) {
  auto wanted = [&](const std::string& learner) {
    return options.learners.empty() ||
           std::find(options.learners.begin(), options.learners.end(), learner) !=
               options.learners.end();
  };
  for (const auto& l : options.learners) make_learner(l);  // unknown names fail early

  bool any_missing = false, any_categorical = false;
  for (const auto& c : profile.column_profiles) {
    any_missing |= c.missing > 0;
    any_categorical |= c.type == ColumnType::kCategorical;
  }

  FeatureRecipe trees;  // trees split on raw values: no scaling, NaN left to XGBoost
  trees.scaling = FeatureRecipe::Scaling::kNone;
  trees.missing_indicators = false;
  trees.impute = false;
  trees.categorical = FeatureRecipe::Categorical::kOrdinal;
  FeatureRecipe trees_onehot = trees;
  trees_onehot.categorical = FeatureRecipe::Categorical::kOneHot;
  FeatureRecipe standard;  // linear models and MLPs want centred, scaled inputs
  // Large data: at most 10 one-hot columns per categorical column (the rest go to the
  // `__other__` slot), so the dense matrix of a million rows stays a few hundred MB; the
  // tree candidate keeps every category through its ordinal codes.
  const bool large = train_rows > 200000;
  if (large) standard.max_one_hot = 10;
  FeatureRecipe robust = standard;
  robust.scaling = FeatureRecipe::Scaling::kRobust;

  std::vector<CandidateDefinition> out;
  auto add = [&](const std::string& learner, const FeatureRecipe& recipe,
                 const nlohmann::json& narrowing, const std::string& why) {
    if (!wanted(learner) || out.size() >= options.max_definitions) return;
    CandidateDefinition c;
    c.name = "dpp" + std::to_string(out.size()) + "-" + learner;
    c.learner = learner;
    c.recipe = recipe;
    c.space = narrowed(learner_params(learner), narrowing);
    c.rationale = why;
    out.push_back(std::move(c));
  };

  // Large data: fewer epochs and rounds per trial so that many trials fit the budget.
  nlohmann::json xgb = nlohmann::json::object();
  nlohmann::json mlp = nlohmann::json::object();
  if (large) {
    xgb["num_round"] = {{"low", 10}, {"high", 500}};
    mlp["max_epochs"] = {{"low", 5}, {"high", 30}};
  }
  add("xgboost", trees, xgb, "gradient-boosted trees on raw values with ordinal categories");
  add("linear", standard, nlohmann::json::object(),
      "regularised linear model on one-hot categories and standardised numbers");
  add("mlp", standard, mlp, "multi-layer perceptron on standardised inputs");
  if (any_categorical && !large)  // on large data the ordinal recipe is the lean one
    add("xgboost", trees_onehot, xgb, "gradient-boosted trees on one-hot categories");
  add("linear", robust, nlohmann::json::object(),
      "linear model with robust (median/IQR) scaling for heavy-tailed columns");
  add("mlp", robust, mlp, "MLP with robust scaling for heavy-tailed columns");
  if (any_missing && !large) {
    FeatureRecipe trees_ind = trees;
    trees_ind.missing_indicators = true;
    add("xgboost", trees_ind, xgb, "trees with explicit missing-value indicators");
  }
  (void)task;
  return out;
}

}  // namespace tabpilot
