// The built-in learners' registry entries; learner.cpp lists them. Each learner lives in its
// own file (xgboost_learner.cpp, linear.cpp, mlp.cpp, random_forest.cpp) with its
// hyperparameter table and what the job needs to know about it (LearnerInfo).
#pragma once
#include "tabpilot/trainer/learner.h"

namespace tabpilot {

const LearnerInfo& xgboost_learner_info();
const LearnerInfo& linear_learner_info();
const LearnerInfo& mlp_learner_info();
const LearnerInfo& random_forest_learner_info();

}  // namespace tabpilot
