#include "tabpilot/tuner/sampler.h"

#include <stdexcept>

#include "tabpilot/common/error.h"
#include "tabpilot/tuner/random_sampler.h"
#include "tabpilot/tuner/rng.h"
#include "tabpilot/tuner/tpe_sampler.h"

namespace tabpilot {
namespace {

void check_lists(const std::vector<const SearchSpace*>& spaces,
                 const std::vector<std::string>& names) {
  if (spaces.empty()) throw std::invalid_argument("propose needs at least one candidate");
  if (spaces.size() != names.size())
    throw std::invalid_argument("propose: " + std::to_string(spaces.size()) + " spaces but " +
                                std::to_string(names.size()) + " candidate names");
  for (const auto* s : spaces)
    if (!s) throw std::invalid_argument("propose: null search space");
}

}  // namespace

Proposal Sampler::propose(const std::vector<const SearchSpace*>& spaces,
                          const std::vector<std::string>& candidate_names,
                          const std::vector<TrialRecord>& history, Direction,
                          uint64_t seed) const {
  check_lists(spaces, candidate_names);
  Proposal p;
  p.candidate = static_cast<size_t>(rng::mix(rng::mix(seed) ^ rng::fnv1a("candidate")) %
                                    spaces.size());
  std::vector<TrialRecord> own;
  for (const auto& t : history)
    if (t.candidate == candidate_names[p.candidate]) own.push_back(t);
  p.params = sample(*spaces[p.candidate], own, seed);
  return p;
}

std::optional<Proposal> next_default(const std::vector<const SearchSpace*>& spaces,
                                     const std::vector<std::string>& candidate_names,
                                     const std::vector<TrialRecord>& history) {
  check_lists(spaces, candidate_names);
  for (size_t c = 0; c < spaces.size(); ++c) {
    bool tried = false;
    for (const auto& t : history) tried = tried || t.candidate == candidate_names[c];
    if (tried) continue;
    Params params = default_params(spaces[c]->params);
    for (const auto& [k, v] : spaces[c]->fixed.items()) params[k] = v;
    return Proposal{c, std::move(params)};
  }
  return std::nullopt;
}

std::vector<std::string> sampler_names() { return {"random", "tpe"}; }

std::unique_ptr<Sampler> make_sampler(std::string_view name) {
  if (name == "random") return std::make_unique<RandomSampler>();
  if (name == "tpe") return std::make_unique<TpeSampler>();
  std::string known;
  for (const auto& n : sampler_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown sampler '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace tabpilot
