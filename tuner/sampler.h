// The Sampler interface: proposes one trial's hyperparameters. Samplers are stateless
// (Optuna's split): everything comes in through the arguments, so the result is fully
// determined by (spaces, history, direction, seed) and any thread may call them at once.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tabpilot/store/trial_store.h"
#include "tabpilot/trainer/hyperparams.h"
#include "tabpilot/tuner/search_space.h"

namespace tabpilot {

enum class Direction { kMinimize, kMaximize };

// One proposed trial of a job's joint space: which candidate, and its parameters.
struct Proposal {
  size_t candidate = 0;  // index into the spaces / candidate names given to propose()
  Params params;         // full: sampled parameters plus the candidate's space.fixed
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // A full Params object: every sampled parameter plus space.fixed. Integers come back as
  // JSON integers, choices as strings; log ranges are drawn log-uniformly. `history` holds
  // trials of this one candidate; model-based samplers read it as minimizing the objective
  // (use propose() when the direction matters).
  virtual Params sample(const SearchSpace& space, const std::vector<TrialRecord>& history,
                        uint64_t seed) const = 0;
  // The joint space of a job: the candidate is a categorical parameter and each candidate's
  // parameters are conditional on it. `history` holds ALL trials of the job; a trial belongs
  // to the candidate whose name equals TrialRecord::candidate (others are ignored). COMPLETE
  // trials carry the objective; RUNNING/WAITING ones are in flight. Throws
  // std::invalid_argument when spaces is empty or the two lists differ in length.
  // The base version: a uniform candidate, then sample() on that candidate's trials.
  virtual Proposal propose(const std::vector<const SearchSpace*>& spaces,
                           const std::vector<std::string>& candidate_names,
                           const std::vector<TrialRecord>& history, Direction direction,
                           uint64_t seed) const;
};

// Known-good defaults first: the first candidate (in list order) with no trial at all in
// `history`, with its default parameters (plus fixed values); nullopt once every candidate
// has one. Stateless like the samplers, so a resumed job picks up where it stopped.
std::optional<Proposal> next_default(const std::vector<const SearchSpace*>& spaces,
                                     const std::vector<std::string>& candidate_names,
                                     const std::vector<TrialRecord>& history);

// The registry by name ("random", "tpe"); an unknown name throws InputError listing known ones.
std::unique_ptr<Sampler> make_sampler(std::string_view name);
std::vector<std::string> sampler_names();

}  // namespace tabpilot
