// Constructors and hyperparameter tables of the built-in learners; learner.cpp registers
// them by name. Each learner lives in its own file (linear.cpp, xgboost_learner.cpp, mlp.cpp).
#pragma once
#include <memory>

#include "tabpilot/trainer/learner.h"

namespace tabpilot {

std::unique_ptr<Learner> make_linear_learner();
const ParamTable& linear_param_table();

std::unique_ptr<Learner> make_xgboost_learner();
const ParamTable& xgboost_param_table();

std::unique_ptr<Learner> make_mlp_learner();
const ParamTable& mlp_param_table();

}  // namespace tabpilot
