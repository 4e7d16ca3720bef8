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

namespace {

// The candidate policy: which learner families to try, on which features, when, and how
// their spaces narrow on large data. A table of data: the only place outside trainer/ that
// names learners. Rows are tried in order; a row's name is dpp<position>-<learner>.
enum class Recipe { kTrees, kTreesOneHot, kTreesIndicators, kStandard, kRobust };
enum class When { kAlways, kCategoricalSmall, kMissingSmall };

struct PolicyRow {
  const char* learner;
  Recipe recipe;
  When when;
  const char* large_narrowing;  // JSON (search_space.h's narrowed()) above 200,000 rows
  const char* why;
};

constexpr PolicyRow kPolicy[] = {
    {"xgboost", Recipe::kTrees, When::kAlways, R"({"num_round": {"low": 10, "high": 500}})",
     "gradient-boosted trees on raw values with ordinal categories"},
    {"linear", Recipe::kStandard, When::kAlways, "{}",
     "regularised linear model on one-hot categories and standardised numbers"},
    {"mlp", Recipe::kStandard, When::kAlways, R"({"max_epochs": {"low": 5, "high": 30}})",
     "multi-layer perceptron on standardised inputs"},
    {"xgboost", Recipe::kTreesOneHot, When::kCategoricalSmall,
     R"({"num_round": {"low": 10, "high": 500}})",
     "gradient-boosted trees on one-hot categories"},
    {"linear", Recipe::kRobust, When::kAlways, "{}",
     "linear model with robust (median/IQR) scaling for heavy-tailed columns"},
    {"mlp", Recipe::kRobust, When::kAlways, R"({"max_epochs": {"low": 5, "high": 30}})",
     "MLP with robust scaling for heavy-tailed columns"},
    {"xgboost", Recipe::kTreesIndicators, When::kMissingSmall,
     R"({"num_round": {"low": 10, "high": 500}})",
     "trees with explicit missing-value indicators"},
    // The forest trains in one call (it cannot stop half-way): smaller on large data.
    {"random_forest", Recipe::kTrees, When::kAlways,
     R"({"n_trees": {"low": 30, "high": 100}, "max_depth": {"low": 3, "high": 12}})",
     "random forest of deep trees on raw values with ordinal categories"},
};

FeatureRecipe recipe_of(Recipe r, bool large) {
  FeatureRecipe trees;  // trees split on raw values: no scaling, NaN left to the trees
  trees.scaling = FeatureRecipe::Scaling::kNone;
  trees.missing_indicators = false;
  trees.impute = false;
  trees.categorical = FeatureRecipe::Categorical::kOrdinal;
  FeatureRecipe standard;  // linear models and MLPs want centred, scaled inputs
  // Large data: at most 10 one-hot columns per categorical column (the rest go to the
  // `__other__` slot), so the dense matrix of a million rows stays a few hundred MB; the
  // tree candidates keep every category through their ordinal codes.
  if (large) standard.max_one_hot = 10;
  switch (r) {
    case Recipe::kTrees:
      return trees;
    case Recipe::kTreesOneHot:
      trees.categorical = FeatureRecipe::Categorical::kOneHot;
      return trees;
    case Recipe::kTreesIndicators:
      trees.missing_indicators = true;
      return trees;
    case Recipe::kStandard:
      return standard;
    case Recipe::kRobust:
      standard.scaling = FeatureRecipe::Scaling::kRobust;
      return standard;
  }
  return standard;
}

}  // namespace

std::vector<CandidateDefinition> generate_candidates(const DataProfile& profile, Task task,
                                                     size_t train_rows,
                                                     const CandidateOptions& options) {
  auto wanted = [&](const std::string& learner) {
    return options.learners.empty() ||
           std::find(options.learners.begin(), options.learners.end(), learner) !=
               options.learners.end();
  };
  for (const auto& l : options.learners) learner_info(l);  // unknown names fail early

  bool any_missing = false, any_categorical = false;
  for (const auto& c : profile.column_profiles) {
    any_missing |= c.missing > 0;
    any_categorical |= c.type == ColumnType::kCategorical;
  }
  // Large data: fewer epochs, rounds and trees per trial so that many trials fit the budget;
  // the lean ordinal recipe instead of one-hot or indicator variants of the trees.
  const bool large = train_rows > 200000;
  std::vector<CandidateDefinition> out;
  for (const PolicyRow& row : kPolicy) {
    if (!wanted(row.learner) || out.size() >= options.max_definitions) continue;
    if (row.when == When::kCategoricalSmall && !(any_categorical && !large)) continue;
    if (row.when == When::kMissingSmall && !(any_missing && !large)) continue;
    CandidateDefinition c;
    c.name = "dpp" + std::to_string(out.size()) + "-" + row.learner;
    c.learner = row.learner;
    c.recipe = recipe_of(row.recipe, large);
    c.space = narrowed(learner_params(row.learner),
                       large ? nlohmann::json::parse(row.large_narrowing) : nlohmann::json::object());
    c.space.cost_params = learner_info(row.learner).cost_params;
    c.rationale = row.why;
    out.push_back(std::move(c));
  }
  (void)task;
  return out;
}

}  // namespace tabpilot
