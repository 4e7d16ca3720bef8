// Greedy ensemble selection over a job's pool (automl/ensemble.h's algorithm on the pool's
// validation predictions) and the pipeline members of the result: every fold model of every
// selected trial, a trial's weight shared equally by its folds.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/trial_pool.h"
#include "tabpilot/data/problem_type.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {

struct PoolEnsemble {
  bool used = false;  // two or more members that beat the best trial alone
  // What job.json records: rounds, pool size, members and weights, the selection metric and
  // values, and (when not used) why.
  nlohmann::json info = nlohmann::json::object();
  std::vector<PipelineMember> members;
  std::vector<float> pred;  // the ensemble's validation predictions
  double objective = 0;     // in the job's objective, on the pool's rows
};

// `y`: the pool's validation targets. rule: JobConfig::ensemble_metric.
PoolEnsemble ensemble_of_pool(std::vector<PoolEntry>& pool, const std::vector<float>& y,
                              Task task, int num_classes, Metric objective,
                              const std::string& rule, int rounds);

}  // namespace tabpilot
