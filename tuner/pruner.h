// The pruner: asynchronous successive halving (ASHA, Li et al. 2018), stateless like the
// samplers. Learners report intermediate values (a validation loss: lower is better) at
// steps of a fidelity (boosting rounds, MLP epochs); the store keeps them; judge() decides
// from those records alone whether a running trial goes on.
//
// Rungs sit at min_resource * eta^k steps. A trial is judged once per rung, by the first
// report at or past it. Its value there (and each peer's: the value of the peer's first
// report at or past the rung) is compared with the peers of the same candidate that reached
// the rung, in any state (the pruned ones too: ASHA's rungs keep everyone who got there).
// It continues while it ranks within the top max(1, floor(n / eta)) of the n values at the
// rung, itself included, ties kept; with fewer than eta peers at the rung it always
// continues, so the first trials of a candidate are never pruned for lack of company.
// A non-finite value (a diverged learner) is pruned at once, rung or not.
#pragma once
#include <string>
#include <vector>

#include "tabpilot/store/trial_store.h"

namespace tabpilot {

struct PrunerConfig {
  bool enabled = true;
  int min_resource = 10;  // steps before the first rung
  int eta = 3;            // reduction factor: the top 1/eta of a rung goes on
};

struct PruneDecision {
  bool prune = false;
  int rung = -1;       // the rung judged at this report, -1 when none was crossed
  std::string reason;  // why, when pruned (goes to TrialRecord::error)
};

// `trial`: the trial's record (its earlier intermediate values; the current report may or
// may not be among them already). `peers`: any trials of the job; only those of the same
// candidate other than `trial` count. Throws std::invalid_argument on min_resource < 1 or
// eta < 2.
PruneDecision judge(const TrialRecord& trial, int step, double value,
                    const std::vector<TrialRecord>& peers, const PrunerConfig& config);

// The step of rung k: min_resource * eta^k.
long long rung_step(const PrunerConfig& config, int k);

}  // namespace tabpilot
