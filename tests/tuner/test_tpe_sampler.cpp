// TPE against random on a synthetic job (3 candidates, one clearly better; a quadratic over a
// float, a log-float and an int, plus a choice), the pessimistic liar with trials in flight,
// the cost rules, determinism and speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "tabpilot/tuner/sampler.h"
#include "tabpilot/tuner/tpe_sampler.h"

namespace tabpilot {
namespace {

ParamSpec spec(std::string name, ParamType type, nlohmann::json def, double low, double high,
               std::vector<std::string> choices = {}) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = type;
  s.default_value = std::move(def);
  s.low = low;
  s.high = high;
  s.choices = std::move(choices);
  return s;
}

SearchSpace synthetic_space() {
  SearchSpace s;
  s.params = {spec("x", ParamType::kFloat, 0.0, -5, 5),
              spec("y", ParamType::kLogFloat, 1.0, 1e-3, 10),
              spec("z", ParamType::kInt, 10, 0, 20),
              spec("k", ParamType::kChoice, "p", 0, 0, {"p", "q", "r"})};
  return s;
}

const std::vector<std::string> kNames = {"a", "b", "c"};
constexpr double kOffset[] = {1.0, 0.0, 1.5};  // candidate "b" is clearly better

// The synthetic loss: minimum 0 at b, x = 1.7, y = 0.05, z = 14, k = "q".
double objective(size_t cand, const Params& p) {
  double x = p["x"], y = p["y"], z = p["z"].get<int>();
  double dy = std::log10(y) - std::log10(0.05);
  return kOffset[cand] + (x - 1.7) * (x - 1.7) / 4 + dy * dy + (z - 14) * (z - 14) / 16.0 +
         (p["k"] == "q" ? 0.0 : 0.5);
}

struct Job {
  std::vector<SearchSpace> spaces{synthetic_space(), synthetic_space(), synthetic_space()};
  std::vector<const SearchSpace*> ptrs{&spaces[0], &spaces[1], &spaces[2]};
  std::vector<TrialRecord> history;
  double clock = 1000;

  TrialRecord& start(const Proposal& p) {
    TrialRecord t;
    t.id = static_cast<int64_t>(history.size()) + 1;
    t.candidate = kNames[p.candidate];
    t.params = p.params;
    t.state = TrialState::kRunning;
    t.started_at = clock;
    history.push_back(t);
    return history.back();
  }
  void finish(TrialRecord& t, double seconds = 1.0) {
    size_t c = static_cast<size_t>(std::find(kNames.begin(), kNames.end(), t.candidate) -
                                   kNames.begin());
    t.state = TrialState::kComplete;
    t.objective = objective(c, t.params);
    t.finished_at = t.started_at + seconds;
    clock += seconds;
  }
  double best() const {
    double b = INFINITY;
    for (const auto& t : history)
      if (t.objective) b = std::min(b, *t.objective);
    return b;
  }
};

// A job of n trials: defaults first, then the sampler, with `workers` trials in flight (the
// oldest finishes when all workers are busy).
double run_job(const Sampler& s, uint64_t seed, int n, int workers) {
  Job job;
  std::vector<size_t> running;
  for (int i = 0; i < n; ++i) {
    if (static_cast<int>(running.size()) >= workers) {
      job.finish(job.history[running.front()]);
      running.erase(running.begin());
    }
    auto d = next_default(job.ptrs, kNames, job.history);
    Proposal p = d ? *d
                   : s.propose(job.ptrs, kNames, job.history, Direction::kMinimize,
                               seed * 1000003 + static_cast<uint64_t>(i));
    job.start(p);
    running.push_back(job.history.size() - 1);
  }
  for (size_t r : running) job.finish(job.history[r]);
  return job.best();
}

struct Comparison {
  double tpe_mean = 0, random_mean = 0;
  int tpe_wins = 0;
};

Comparison compare(int workers, const TpeOptions& options = {}, int kSeeds = 40) {
  constexpr int kTrials = 60;
  auto random = make_sampler("random");
  TpeSampler tpe(options);
  Comparison c;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    double t = run_job(tpe, seed, kTrials, workers), r = run_job(*random, seed, kTrials, workers);
    c.tpe_mean += t / kSeeds;
    c.random_mean += r / kSeeds;
    c.tpe_wins += t < r;
  }
  std::printf("[ measured ] %d worker(s), 60 trials: mean best TPE %.4f, random %.4f; "
              "TPE better on %d of %d\n",
              workers, c.tpe_mean, c.random_mean, c.tpe_wins, kSeeds);
  return c;
}

// 40 seeds x 60 trials. The bounds leave room: measured means are in the test log.
TEST(TpeSampler, BeatsRandomOnASyntheticJob) {
  Comparison c = compare(1);
  EXPECT_LT(c.tpe_mean, 0.75 * c.random_mean);
  EXPECT_GE(c.tpe_wins, 26);
}

TEST(TpeSampler, BeatsRandomWithFourTrialsInFlight) {
  Comparison c = compare(4);
  EXPECT_LT(c.tpe_mean, 0.75 * c.random_mean);
  EXPECT_GE(c.tpe_wins, 26);
}

// A job 30 trials in, all finished: the history the following tests propose from.
Job warm_job(uint64_t seed = 7) {
  Job job;
  auto random = make_sampler("random");
  for (int i = 0; i < 30; ++i) {
    auto d = next_default(job.ptrs, kNames, job.history);
    job.finish(job.start(
        d ? *d : random->propose(job.ptrs, kNames, job.history, Direction::kMinimize, seed + i)));
  }
  return job;
}

TEST(TpeSampler, LiarMakesConcurrentProposalsDiffer) {
  TpeSampler tpe;
  Job job = warm_job();
  // Four asks with the same seed while the earlier ones run: the liar alone must move them.
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    Proposal p = tpe.propose(job.ptrs, kNames, job.history, Direction::kMinimize, 99);
    seen.insert(std::to_string(p.candidate) + p.params.dump());
    job.start(p);  // RUNNING from now on
  }
  EXPECT_EQ(seen.size(), 4u);
  // Without the in-flight trials the same seed gives the same proposal: it was the liar.
  Job again = warm_job();
  EXPECT_EQ(tpe.propose(again.ptrs, kNames, again.history, Direction::kMinimize, 99).params,
            tpe.propose(again.ptrs, kNames, again.history, Direction::kMinimize, 99).params);
}

// Completed trials of two candidates with the given losses, ids interleaved (a1 c1 a2 c2 ...)
// and durations `a_seconds` and `c_seconds`.
std::vector<TrialRecord> twin_history(const std::vector<double>& a_loss,
                                      const std::vector<double>& c_loss, double a_seconds,
                                      double c_seconds) {
  std::vector<TrialRecord> h;
  Params p = {{"x", 0.0}, {"y", 1.0}, {"z", 10}, {"k", "p"}};
  for (size_t i = 0; i < a_loss.size(); ++i)
    for (int which = 0; which < 2; ++which) {
      TrialRecord t;
      t.id = static_cast<int64_t>(h.size()) + 1;
      t.candidate = which ? "c" : "a";
      t.state = TrialState::kComplete;
      t.params = p;
      t.objective = which ? c_loss[i] : a_loss[i];
      t.started_at = 100.0 * static_cast<double>(t.id);
      t.finished_at = t.started_at + (which ? c_seconds : a_seconds);
      h.push_back(t);
    }
  return h;
}

// The number of asks out of 300 that go to each of the two candidates.
std::pair<int, int> shares(const std::vector<TrialRecord>& history, const TpeOptions& o) {
  SearchSpace s = synthetic_space();
  TpeSampler tpe(o);
  int a = 0, c = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    size_t k = tpe.propose({&s, &s}, {"a", "c"}, history, Direction::kMinimize, seed).candidate;
    (k == 0 ? a : c)++;
  }
  return {a, c};
}

// Trials in flight on the favoured candidate count as bad: asks move to the other.
TEST(TpeSampler, InFlightTrialsPushTheCandidateChoiceElsewhere) {
  TpeOptions o;
  o.explore = 0;  // the model's choice alone
  auto h = twin_history({1, 2, 6, 8, 10, 12, 14, 16, 18}, {3, 4, 5, 7, 9, 11, 13, 15, 17}, 1, 1);
  auto [a0, c0] = shares(h, o);
  EXPECT_GT(a0, c0);  // a holds the best trials
  for (int i = 0; i < 8; ++i) {
    TrialRecord t = h[0];
    t.id = static_cast<int64_t>(h.size()) + 1;
    t.state = TrialState::kRunning;
    t.objective.reset();
    h.push_back(t);
  }
  auto [a1, c1] = shares(h, o);
  EXPECT_GT(c1, a1) << "before " << a0 << ":" << c0 << ", after " << a1 << ":" << c1;
}

// Two candidates of equal quality, one ten times slower: the cheap one gets most asks; with
// cost_power = 0 neither is favoured.
TEST(TpeSampler, CheaperCandidatesAreProposedMore) {
  std::vector<double> loss = {5, 1, 4, 2, 8, 3, 7, 6};
  TpeOptions o;
  o.explore = 0;
  o.cost_power = 0.5;  // the default is 0 (measured better in the suite); the knob still works
  auto [a, c] = shares(twin_history(loss, loss, 1, 10), o);
  EXPECT_GT(a, 3 * c) << a << " vs " << c;
  o.cost_power = 0;
  std::tie(a, c) = shares(twin_history(loss, loss, 1, 10), o);
  EXPECT_NEAR(a, c, 60) << a << " vs " << c;
  // Explore keeps some asks on the slow one.
  TpeOptions cost_aware;
  cost_aware.cost_power = 0.5;
  std::tie(a, c) = shares(twin_history(loss, loss, 1, 10), cost_aware);
  EXPECT_GT(c, 10);
}

TEST(TpeSampler, MaximizingTheNegatedObjectiveProposesTheSame) {
  TpeSampler tpe;
  Job job = warm_job();
  Job neg = job;
  for (auto& t : neg.history) t.objective = -*t.objective;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Proposal a = tpe.propose(job.ptrs, kNames, job.history, Direction::kMinimize, seed);
    Proposal b = tpe.propose(neg.ptrs, kNames, neg.history, Direction::kMaximize, seed);
    EXPECT_EQ(a.candidate, b.candidate);
    EXPECT_EQ(a.params, b.params);
  }
}

TEST(TpeSampler, ModelledProposalsConcentrateNearTheOptimum) {
  // After 30 random trials, TPE's next proposals for the best candidate sit closer to the
  // optimum (x = 1.7) than random draws do.
  TpeSampler tpe;
  auto random = make_sampler("random");
  Job job = warm_job();
  double tpe_err = 0, random_err = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Params t = tpe.sample(job.spaces[1], job.history, seed);
    Params r = random->sample(job.spaces[1], job.history, seed);
    tpe_err += std::abs(t["x"].get<double>() - 1.7);
    random_err += std::abs(r["x"].get<double>() - 1.7);
  }
  EXPECT_LT(tpe_err, 0.7 * random_err);
}

// A step objective (F1) equal for every trial: the validation LogLoss ranks them, so TPE
// still learns where the better models are (here: near x = 2) instead of keeping the first.
TEST(TpeSampler, EqualObjectivesAreRankedByTheirLogLoss) {
  SearchSpace s;
  s.params = {spec("x", ParamType::kFloat, 0.0, -5, 5)};
  std::vector<TrialRecord> history;
  for (int i = 0; i < 40; ++i) {
    TrialRecord t;
    t.id = i + 1;
    t.candidate = "only";
    t.state = TrialState::kComplete;
    const double x = -5 + 10.0 * ((i * 7) % 40) / 39.0;  // spread, not in order of x
    t.params = {{"x", x}};
    t.objective = 0.68;
    t.metrics = {{"validation", {{"F1", 0.68}, {"LogLoss", 0.5 + (x - 2) * (x - 2) / 10}}}};
    history.push_back(t);
  }
  TpeSampler tpe;
  double err = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Proposal p = tpe.propose({&s}, {"only"}, history, Direction::kMaximize, seed);
    err += std::abs(p.params["x"].get<double>() - 2) / 100;
  }
  // Uniform draws on [-5, 5] are 2.9 from x = 2 on average; the first trials by id sit
  // anywhere, so without the tie-break the mean error stays near that.
  EXPECT_LT(err, 1.2);
}

// FLAML's cheap start: num_round above its default only once the candidate ranks well.
TEST(TpeSampler, CostParametersStayAtOrBelowTheDefaultUntilPromising) {
  SearchSpace s;
  s.params = {spec("num_round", ParamType::kInt, 500, 10, 2000),
              spec("eta", ParamType::kLogFloat, 0.1, 0.005, 0.5)};
  s.cost_params = {"num_round"};  // as the learner registry says for XGBoost
  std::vector<const SearchSpace*> spaces = {&s, &s};
  std::vector<std::string> names = {"good", "poor"};
  std::vector<TrialRecord> history;
  for (int i = 0; i < 20; ++i) {
    TrialRecord t;
    t.id = i + 1;
    t.candidate = i % 2 ? "poor" : "good";
    t.state = TrialState::kComplete;
    t.params = {{"num_round", 100 + 20 * i}, {"eta", 0.1}};
    t.objective = (i % 2 ? 10.0 : 1.0) + 0.01 * i;
    history.push_back(t);
  }
  TpeSampler tpe;
  int above_good = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Proposal p = tpe.propose(spaces, names, history, Direction::kMinimize, seed);
    if (p.candidate == 1) {
      EXPECT_LE(p.params["num_round"].get<int>(), 500);
    } else {
      above_good += p.params["num_round"].get<int>() > 500;
    }
  }
  EXPECT_GT(above_good, 0);  // the promising candidate may grow
  // With no history at all, sample() starts cheap too.
  for (uint64_t seed = 0; seed < 100; ++seed)
    EXPECT_LE(tpe.sample(s, {}, seed)["num_round"].get<int>(), 500);
}

TEST(TpeSampler, ProposeIsFastWithALongHistory) {
  Job job;
  auto random = make_sampler("random");
  for (int i = 0; i < 250; ++i) {
    TrialRecord& t = job.start(random->propose(job.ptrs, kNames, job.history,
                                               Direction::kMinimize, static_cast<uint64_t>(i)));
    if (i % 10 == 0) continue;  // some in flight
    job.finish(t);
  }
  TpeSampler tpe;
  constexpr int kCalls = 20;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i)
    tpe.propose(job.ptrs, kNames, job.history, Direction::kMinimize, static_cast<uint64_t>(i));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count() / kCalls;
  std::printf("[ measured ] propose() with 250 trials of history: %.3f ms\n", ms);
  EXPECT_LT(ms, 10.0);
}

TEST(NextDefault, DefaultsOncePerCandidateInOrder) {
  Job job;
  job.spaces[1] = narrowed(synthetic_space().params, {{"z", 3}});
  auto d = next_default(job.ptrs, kNames, job.history);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->candidate, 0u);
  EXPECT_EQ(d->params, (nlohmann::json{{"x", 0.0}, {"y", 1.0}, {"z", 10}, {"k", "p"}}));
  job.start(*d);  // in flight counts as tried
  d = next_default(job.ptrs, kNames, job.history);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->candidate, 1u);
  EXPECT_EQ(d->params["z"], 3);  // the fixed value, not the table default
  job.start(*d);
  job.start(*next_default(job.ptrs, kNames, job.history));
  EXPECT_FALSE(next_default(job.ptrs, kNames, job.history));
  EXPECT_THROW(next_default(job.ptrs, {"a"}, job.history), std::invalid_argument);
}

}  // namespace
}  // namespace tabpilot
