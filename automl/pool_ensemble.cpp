#include "tabpilot/automl/pool_ensemble.h"

#include "tabpilot/automl/ensemble.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {

PoolEnsemble ensemble_of_pool(std::vector<PoolEntry>& pool, const std::vector<float>& y,
                              Task task, int num_classes, Metric objective,
                              const std::string& rule, int rounds) {
  PoolEnsemble out;
  std::vector<const std::vector<float>*> preds;
  for (const auto& e : pool) preds.push_back(&e.oof);
  const Metric metric = ensemble_selection_metric(task, objective, rule);
  const EnsembleSelection sel = select_ensemble(preds, y, task, num_classes, metric, rounds);
  nlohmann::json members = nlohmann::json::array();
  size_t used = 0;
  for (size_t m = 0; m < pool.size(); ++m)
    if (sel.weights[m] > 0) {
      ++used;
      members.push_back({{"trial", pool[m].name}, {"weight", sel.weights[m]}});
    }
  out.info = {{"rounds", sel.rounds},
              {"pool", pool.size()},
              {"members", members},
              {"selection_metric", std::string(to_string(metric))},
              {"selection_value", sel.objective},
              {"best_single_selection_value", sel.single_objective},
              // both objectives below on the pooled rows, like the selection
              {"best_single_objective",
               compute_metric(objective, task, y, pool[0].oof, num_classes)}};
  const bool improved = higher_is_better(metric) ? sel.objective > sel.single_objective
                                                 : sel.objective < sel.single_objective;
  if (used < 2 || !improved) {
    out.info["used"] = false;
    out.info["reason"] = "no combination scored better than the best trial alone";
    return out;
  }
  out.pred.assign(pool[0].oof.size(), 0.0f);
  for (size_t m = 0; m < pool.size(); ++m) {
    if (sel.weights[m] <= 0) continue;
    const auto& src = pool[m].model()->members;
    for (const auto& member : src) {
      PipelineMember copy;
      copy.transform = member.transform;
      copy.learner = make_learner(member.learner_name);
      copy.learner->deserialize(member.learner->serialize());
      copy.learner_name = member.learner_name;
      copy.params = member.params;
      copy.trial = pool[m].name;
      copy.weight = sel.weights[m] / static_cast<double>(src.size());
      out.members.push_back(std::move(copy));
    }
    for (size_t i = 0; i < out.pred.size(); ++i)
      out.pred[i] += static_cast<float>(sel.weights[m]) * pool[m].oof[i];
  }
  out.objective = compute_metric(objective, task, y, out.pred, num_classes);
  out.info["objective"] = out.objective;
  out.info["used"] = true;
  out.used = true;
  return out;
}

}  // namespace tabpilot
