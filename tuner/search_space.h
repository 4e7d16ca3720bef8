// A candidate's search space: a learner's hyperparameter table, possibly with narrowed
// ranges or choices, plus values held fixed (never sampled). Samplers read it; the
// candidate-definition report prints to_json().
#pragma once
#include <nlohmann/json.hpp>

#include "tabpilot/trainer/hyperparams.h"

namespace tabpilot {

struct SearchSpace {
  ParamTable params;                                // what samplers draw, in table order
  nlohmann::json fixed = nlohmann::json::object();  // name -> value, never sampled
  // Parameters whose growth makes a trial slower (the learner's LearnerInfo::cost_params): a
  // cost-aware sampler keeps them at their defaults until the candidate proves itself.
  std::vector<std::string> cost_params;

  // {"params": [ParamSpec::to_json()...], "fixed": {...}}
  nlohmann::json to_json() const;
};

// `base` restricted by `overrides`, a JSON object mapping a parameter name to
//   {"low": x, "high": y}   a numeric sub-range (either bound may be left out),
//   {"choices": [...]}      a non-empty subset of a choice parameter's choices,
//   any other value         a fixed value (checked against the table like a user value).
// Null means no overrides. Throws InputError on an unknown name (listing the known ones), a
// range outside the base table, a choice not in it, or a malformed override.
SearchSpace narrowed(const ParamTable& base, const nlohmann::json& overrides);

}  // namespace tabpilot
