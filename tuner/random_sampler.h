// Independent uniform sampling of every parameter: the baseline every other sampler must
// beat, and the one used for a candidate's first trials.
#pragma once
#include "tabpilot/tuner/sampler.h"

namespace tabpilot {

class RandomSampler final : public Sampler {
 public:
  std::string name() const override { return "random"; }
  // Ignores history. Each parameter draws from its own stream keyed by (seed, name), so
  // adding or narrowing one parameter does not change the values drawn for the others.
  Params sample(const SearchSpace& space, const std::vector<TrialRecord>& history,
                uint64_t seed) const override;
};

}  // namespace tabpilot
