// Small fitted pipelines for the report tests: one member, all rows for training, the
// learner's default hyperparameters with the given overrides.
#pragma once
#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "support/test_paths.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot::testing {

struct Fitted {
  Table table;
  Pipeline pipeline;
  std::vector<size_t> rows;  // training rows (all)
  std::vector<float> y;      // value or class index per row
};

// One member trained on all rows of f.table using only `features`.
inline PipelineMember fit_member(const Fitted& f, const std::vector<std::string>& features,
                                 const std::string& learner, const FeatureRecipe& recipe,
                                 const Params& overrides = Params::object()) {
  PipelineMember m;
  m.transform.fit(f.table, features, f.rows, recipe);
  m.learner_name = learner;
  m.learner = make_learner(learner);
  Params params = default_params(learner_params(learner));
  for (const auto& [k, v] : overrides.items()) params[k] = v;
  m.params = params;
  Matrix x = m.transform.transform(f.table);
  FitData d;
  d.x_train = x.view();
  d.y_train = &f.y;
  d.task = f.pipeline.task;
  d.num_classes = is_classification(d.task) ? static_cast<int>(f.pipeline.labels.size()) : 1;
  FitContext ctx;
  ctx.threads = 2;
  m.learner->fit(d, params, ctx);
  return m;
}

inline FeatureRecipe tree_recipe() {
  FeatureRecipe r;
  r.scaling = FeatureRecipe::Scaling::kNone;
  r.impute = false;
  r.missing_indicators = false;
  r.categorical = FeatureRecipe::Categorical::kOrdinal;
  return r;
}

inline Fitted fit_on(const std::string& dataset, const std::string& target, Task task,
                     const std::string& learner, const FeatureRecipe& recipe,
                     const Params& overrides = Params::object()) {
  Fitted f;
  CsvOptions options;
  options.never_id = {target};
  f.table = read_csv(test_data(dataset + "/train.csv").string(), options);
  Pipeline& p = f.pipeline;
  p.task = task;
  p.target = target;
  p.candidate = "test-" + learner;
  for (const auto& c : f.table.columns)
    if (c.name != target && c.type != ColumnType::kIdLike) {
      p.features.push_back(c.name);
      p.feature_types.push_back(c.type);
    }
  const Column& y = f.table.at(target);
  std::vector<float> yv;
  for (size_t r = 0; r < f.table.num_rows; ++r) {
    if (y.is_missing(r)) continue;
    f.rows.push_back(r);
  }
  if (is_classification(task)) {
    std::map<std::string, int> cls;
    for (size_t r : f.rows) cls.emplace(y.value_string(r), 0);
    int i = 0;
    for (auto& [label, idx] : cls) {
      idx = i++;
      p.labels.push_back(label);
    }
    for (size_t r : f.rows) yv.push_back(static_cast<float>(cls[y.value_string(r)]));
  } else {
    for (size_t r : f.rows) yv.push_back(y.numeric[r]);
  }
  f.table = f.table.take(f.rows);
  std::iota(f.rows.begin(), f.rows.end(), size_t{0});
  f.y = yv;
  PipelineMember m = fit_member(f, p.features, learner, recipe, overrides);
  p.members.push_back(std::move(m));
  return f;
}

}  // namespace tabpilot::testing
