// Candidate generation: from the data profile, up to 10 candidate definitions, each a
// feature recipe + a learner + a search space, named like Autopilot's "dpp<N>-<learner>".
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/data/profile.h"
#include "tabpilot/trainer/features.h"
#include "tabpilot/tuner/search_space.h"

namespace tabpilot {

struct CandidateDefinition {
  std::string name;     // "dpp0-xgboost"
  std::string learner;  // registry name
  FeatureRecipe recipe;
  SearchSpace space;
  std::string rationale;  // why this candidate is here, one sentence
  nlohmann::json to_json() const;
};

struct CandidateOptions {
  std::vector<std::string> learners;  // empty = all registered
  size_t max_definitions = 10;
};

// Deterministic for the same profile and options.
std::vector<CandidateDefinition> generate_candidates(const DataProfile& profile, Task task,
                                                     size_t train_rows,
                                                     const CandidateOptions& options = {});

}  // namespace tabpilot
