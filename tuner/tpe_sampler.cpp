#include "tabpilot/tuner/tpe_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "tabpilot/tuner/parzen.h"
#include "tabpilot/tuner/random_sampler.h"
#include "tabpilot/tuner/rng.h"

namespace tabpilot {
namespace {

// One trial as TPE sees it.
struct Obs {
  const TrialRecord* trial;
  bool scored = false;  // COMPLETE with a finite objective
  double loss = 0;      // objective, negated when maximizing
  double tie = 0;       // secondary loss for equal objectives (validation LogLoss, else 0)
};

// Step objectives (F1, Accuracy) leave many trials equal; the validation log loss, a proper
// scoring rule, then says which of them is better instead of the trial order.
double tie_breaker(const TrialRecord& t) {
  auto v = t.metrics.find("validation");
  if (v == t.metrics.end() || !v->is_object()) return 0;
  auto l = v->find("LogLoss");
  return l != v->end() && l->is_number() && std::isfinite(l->get<double>()) ? l->get<double>()
                                                                            : 0;
}

using ByCandidate = std::vector<std::vector<Obs>>;

ByCandidate group(const std::vector<std::string>& names, const std::vector<TrialRecord>& history,
                  Direction direction, bool all_to_first) {
  ByCandidate out(names.size());
  for (const auto& t : history) {
    size_t c = 0;
    if (!all_to_first) {
      auto it = std::find(names.begin(), names.end(), t.candidate);
      if (it == names.end()) continue;
      c = static_cast<size_t>(it - names.begin());
    }
    Obs o{&t};
    if (t.state == TrialState::kComplete && t.objective && std::isfinite(*t.objective)) {
      o.scored = true;
      o.loss = direction == Direction::kMinimize ? *t.objective : -*t.objective;
      o.tie = tie_breaker(t);
    }
    out[c].push_back(o);
  }
  return out;
}

bool by_loss(const Obs* a, const Obs* b) {
  if (a->loss != b->loss) return a->loss < b->loss;
  if (a->tie != b->tie) return a->tie < b->tie;
  return a->trial->id < b->trial->id;  // still equal: deterministic
}

size_t n_good(size_t n_scored, const TpeOptions& o) {
  if (n_scored == 0) return 0;
  double k = std::ceil(o.gamma * std::sqrt(static_cast<double>(n_scored)));
  return std::min(n_scored, static_cast<size_t>(std::clamp(k, 1.0, double(o.max_good))));
}

// The scored observations of `obs`, best first.
std::vector<const Obs*> ranked(const std::vector<const Obs*>& obs) {
  std::vector<const Obs*> r;
  for (const Obs* o : obs)
    if (o->scored) r.push_back(o);
  std::sort(r.begin(), r.end(), by_loss);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median wall time of each candidate's completed trials; 0 where unknown.
std::vector<double> candidate_costs(const ByCandidate& by) {
  std::vector<double> cost(by.size(), 0.0);
  for (size_t c = 0; c < by.size(); ++c) {
    std::vector<double> d;
    for (const Obs& o : by[c]) {
      double s = o.trial->finished_at - o.trial->started_at;
      if (o.scored && o.trial->started_at > 0 && s > 0) d.push_back(s);
    }
    if (!d.empty()) cost[c] = median(std::move(d));
  }
  return cost;
}

// Step 1 of the header: the candidate by smoothed good/bad counts, liar and cost included.
size_t choose_candidate(const ByCandidate& by, const TpeOptions& opt, rng::Stream& rng) {
  const size_t k = by.size();
  if (k == 1) return 0;
  if (rng.uniform() < opt.explore) return rng.below(k);
  std::vector<const Obs*> all;
  for (const auto& v : by)
    for (const Obs& o : v) all.push_back(&o);
  auto r = ranked(all);
  const size_t good_n = n_good(r.size(), opt);
  std::vector<const Obs*> good(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(good_n));
  std::vector<size_t> good_idx, bad_idx;
  for (size_t c = 0; c < k; ++c)
    for (const Obs& o : by[c])
      (std::find(good.begin(), good.end(), &o) != good.end() ? good_idx : bad_idx).push_back(c);
  ChoiceParzen l(k, good_idx, opt.candidate_prior_weight), g(k, bad_idx, opt.candidate_prior_weight);

  std::vector<double> cost = candidate_costs(by), known;
  for (double c : cost)
    if (c > 0) known.push_back(c);
  const double typical = known.empty() ? 0.0 : median(known);
  std::vector<double> score(k);
  for (size_t c = 0; c < k; ++c) {
    score[c] = l.log_prob(c) - g.log_prob(c);
    if (typical > 0 && cost[c] > 0) score[c] -= opt.cost_power * std::log(cost[c] / typical);
  }
  size_t best = l.sample(rng);
  for (int i = 1; i < opt.n_ei_candidates; ++i) {
    size_t c = l.sample(rng);
    if (score[c] > score[best]) best = c;
  }
  return best;
}

// Step 3: cost parameters capped at their default until the candidate looks promising.
SearchSpace capped(const SearchSpace& space, const TpeOptions& opt) {
  SearchSpace s = space;
  for (auto& p : s.params) {
    if (p.type == ParamType::kChoice || !p.default_value.is_number()) continue;
    if (std::find(space.cost_params.begin(), space.cost_params.end(), p.name) ==
        space.cost_params.end())
      continue;
    double d = p.default_value.get<double>();
    if (d >= p.low && d < p.high) p.high = d;
  }
  return s;
}

// The value of `spec` in a trial's params in internal coordinates (or the choice index);
// false when it is missing or of the wrong kind (e.g. the space changed since).
bool observed(const ParamSpec& spec, const Params& params, double& x) {
  auto it = params.find(spec.name);
  if (it == params.end()) return false;
  if (spec.type == ParamType::kChoice) {
    if (!it->is_string()) return false;
    auto c = std::find(spec.choices.begin(), spec.choices.end(), it->get<std::string>());
    if (c == spec.choices.end()) return false;
    x = static_cast<double>(c - spec.choices.begin());
    return true;
  }
  if (!it->is_number()) return false;
  double v = it->get<double>();
  if (!std::isfinite(v)) return false;
  x = to_internal(spec, v);
  return true;
}

// Step 2: the candidate's parameters, modelled once it has n_startup completed trials.
Params sample_params(const SearchSpace& full, const std::vector<Obs>& obs, bool promising,
                     const TpeOptions& opt, uint64_t seed, rng::Stream& rng) {
  const SearchSpace space = promising ? full : capped(full, opt);
  std::vector<const Obs*> mine;
  for (const Obs& o : obs) mine.push_back(&o);
  auto r = ranked(mine);
  if (static_cast<int>(r.size()) < opt.n_startup || space.params.empty())
    return RandomSampler().sample(space, {}, seed);

  const size_t good_n = n_good(r.size(), opt);
  std::vector<const Obs*> good(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(good_n)), bad;
  for (const Obs* o : mine)
    if (std::find(good.begin(), good.end(), o) == good.end()) bad.push_back(o);

  const size_t n_params = space.params.size();
  const int n_draws = std::max(1, opt.n_ei_candidates);
  // draws[i][p]: internal value or choice index; score[i]: sum over params of log l - log g.
  std::vector<std::vector<double>> draws(static_cast<size_t>(n_draws),
                                         std::vector<double>(n_params));
  std::vector<double> score(static_cast<size_t>(n_draws), 0.0);
  for (size_t p = 0; p < n_params; ++p) {
    const ParamSpec& spec = space.params[p];
    std::vector<double> lx, gx;
    double x;
    for (const Obs* o : good)
      if (observed(spec, o->trial->params, x)) lx.push_back(x);
    for (const Obs* o : bad)
      if (observed(spec, o->trial->params, x)) gx.push_back(x);
    if (spec.type == ParamType::kChoice) {
      auto idx = [](const std::vector<double>& v) {
        return std::vector<size_t>(v.begin(), v.end());
      };
      ChoiceParzen l(spec.choices.size(), idx(lx), opt.prior_weight);
      ChoiceParzen g(spec.choices.size(), idx(gx), opt.prior_weight);
      for (int i = 0; i < n_draws; ++i) {
        size_t c = l.sample(rng);
        draws[i][p] = static_cast<double>(c);
        score[i] += l.log_prob(c) - g.log_prob(c);
      }
    } else {
      NumericParzen l(spec, lx, opt.prior_weight), g(spec, gx, opt.prior_weight);
      for (int i = 0; i < n_draws; ++i) {
        double v = l.sample(rng);
        draws[i][p] = v;
        score[i] += l.log_density(v) - g.log_density(v);
      }
    }
  }
  size_t best = static_cast<size_t>(std::max_element(score.begin(), score.end()) - score.begin());
  Params out = Params::object();
  for (size_t p = 0; p < n_params; ++p) {
    const ParamSpec& spec = space.params[p];
    out[spec.name] = spec.type == ParamType::kChoice
                         ? nlohmann::json(spec.choices[static_cast<size_t>(draws[best][p])])
                         : from_internal(spec, draws[best][p]);
  }
  for (const auto& [k, v] : space.fixed.items()) out[k] = v;
  return out;
}

// Whether one of the candidate's trials ranks in the top quarter of all completed trials.
bool promising(const ByCandidate& by, size_t cand) {
  std::vector<const Obs*> all;
  for (const auto& v : by)
    for (const Obs& o : v) all.push_back(&o);
  auto r = ranked(all);
  if (r.empty()) return false;
  const Obs* last_top = r[(r.size() + 3) / 4 - 1];
  for (const Obs& o : by[cand])
    if (o.scored && !by_loss(last_top, &o)) return true;
  return false;
}

Proposal propose_grouped(const std::vector<const SearchSpace*>& spaces, const ByCandidate& by,
                         const TpeOptions& opt, uint64_t seed) {
  rng::Stream rng(seed);
  Proposal p;
  p.candidate = choose_candidate(by, opt, rng);
  p.params = sample_params(*spaces[p.candidate], by[p.candidate], promising(by, p.candidate), opt,
                           rng::mix(seed ^ 0x7470652D70617261ull), rng);
  return p;
}

}  // namespace

Params TpeSampler::sample(const SearchSpace& space, const std::vector<TrialRecord>& history,
                          uint64_t seed) const {
  return propose_grouped({&space}, group({""}, history, Direction::kMinimize, true), options_,
                         seed)
      .params;
}

Proposal TpeSampler::propose(const std::vector<const SearchSpace*>& spaces,
                             const std::vector<std::string>& candidate_names,
                             const std::vector<TrialRecord>& history, Direction direction,
                             uint64_t seed) const {
  if (spaces.empty()) throw std::invalid_argument("propose needs at least one candidate");
  if (spaces.size() != candidate_names.size())
    throw std::invalid_argument("propose: spaces and candidate names differ in length");
  for (const auto* s : spaces)
    if (!s) throw std::invalid_argument("propose: null search space");
  return propose_grouped(spaces, group(candidate_names, history, direction, false), options_,
                         seed);
}

}  // namespace tabpilot
