// The Sampler interface: proposes one trial's hyperparameters from a search space. Samplers
// are stateless (Optuna's split): everything comes in through the arguments, so the result
// is fully determined by (space, history, seed) and any thread may call sample().
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tabpilot/store/store.h"
#include "tabpilot/trainer/hyperparams.h"
#include "tabpilot/tuner/search_space.h"

namespace tabpilot {

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // A full Params object: every sampled parameter plus space.fixed. Integers come back as
  // JSON integers, choices as strings; log ranges are drawn log-uniformly. `history` holds
  // the finished trials of this candidate, for model-based samplers.
  virtual Params sample(const SearchSpace& space, const std::vector<TrialRecord>& history,
                        uint64_t seed) const = 0;
};

// The registry by name ("random"); an unknown name throws InputError listing known ones.
std::unique_ptr<Sampler> make_sampler(std::string_view name);
std::vector<std::string> sampler_names();

}  // namespace tabpilot
