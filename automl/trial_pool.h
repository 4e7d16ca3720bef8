// The ensemble pool: the best trials of a job with their fitted pipelines and validation
// predictions, at most `limit` of them and at most `per_candidate` of one candidate (a sampler
// settled on one candidate would otherwise fill the pool with near-copies, and greedy
// selection needs different models). Ranked by objective, ties to the earlier trial.
// Not thread safe: the job holds it under its own lock.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/store/trial_store.h"
#include "tabpilot/trainer/hyperparams.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot {

// The learner (and candidate) name of the trials that record an ensemble of other trials.
inline constexpr const char* kEnsembleLearner = "ensemble";

// Trials whose models the job keeps for ensembles and resume; on large data only the best.
inline constexpr size_t kPoolSize = 20;
inline constexpr size_t kPoolPerCandidate = 5;

struct PoolEntry {
  int64_t id = 0;
  std::string name;
  size_t cand = 0;  // candidate index in the plan
  double objective = 0;
  // The trial's fitted pipeline; when null, `load` reads it (from the store) on first use, so
  // that a pool of twenty trials need not hold twenty models in memory.
  std::shared_ptr<Pipeline> pipeline;
  std::function<std::shared_ptr<Pipeline>()> load;
  const std::shared_ptr<Pipeline>& model();
  std::vector<float> oof;  // predictions on the plan's validation rows
  Params params;
  uint64_t seed = 0;  // the trial's seed (TrialSpec::seed)
  nlohmann::json fit_info = nlohmann::json::object();  // split 0's (what a refit sizes from)
  double fit_seconds = 0;
};

// A pool entry as trial-store artifacts: its pipeline's files, validation_predictions.f32
// (the raw floats) and trial.json (id, objective, the predictions' SHA-256, fit info).
ArtifactFiles pool_entry_files(const PoolEntry& e);
// A pool entry back from a store: trial.json and the predictions now (`values` floats:
// validation rows x outputs; InputError when they are missing or do not match), the pipeline
// when first used.
PoolEntry pool_entry_from_store(const TrialStore& store, const std::string& trial, size_t values);

class TrialPool {
 public:
  TrialPool(size_t limit, size_t per_candidate, bool higher_is_better)
      : limit_(limit), per_candidate_(per_candidate), higher_(higher_is_better) {}

  // Whether objective a (of trial a_id) ranks before b: the better value, ties to the lower id.
  bool better(double a, int64_t a_id, double b, int64_t b_id) const;
  // Whether a trial would enter the pool as it is now.
  bool admits(size_t cand, double objective, int64_t id) const;
  // Inserts in rank order and evicts what the limits leave out (the entry itself, when it does
  // not rank); returns the names of the evicted trials.
  std::vector<std::string> insert(PoolEntry e);

  const std::vector<PoolEntry>& entries() const { return entries_; }  // best first
  std::vector<PoolEntry>& entries() { return entries_; }
  PoolEntry& best() { return entries_.front(); }
  bool empty() const { return entries_.empty(); }
  const PoolEntry& best() const { return entries_.front(); }
  size_t limit() const { return limit_; }

 private:
  size_t limit_, per_candidate_;
  bool higher_;
  std::vector<PoolEntry> entries_;
};

}  // namespace tabpilot
