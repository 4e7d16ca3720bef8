// One suite run against every registered sampler (Optuna's habit): ranges, types, fixed
// values, determinism in the seed, the shape of the distribution on log ranges (with no
// history), and the joint propose() over several candidates with a history of every state,
// from several threads at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "tabpilot/common/error.h"
#include "tabpilot/tuner/sampler.h"

namespace tabpilot {
namespace {

ParamSpec spec(std::string name, ParamType type, double low, double high,
               std::vector<std::string> choices = {}) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = type;
  s.low = low;
  s.high = high;
  s.choices = std::move(choices);
  s.default_value = type == ParamType::kChoice ? nlohmann::json(s.choices.at(0))
                    : (type == ParamType::kInt || type == ParamType::kLogInt)
                        ? nlohmann::json(static_cast<int64_t>(low))
                        : nlohmann::json(low);
  return s;
}

ParamTable table() {
  return {spec("eta", ParamType::kLogFloat, 1e-4, 1.0),
          spec("subsample", ParamType::kFloat, 0.5, 1.0),
          spec("max_depth", ParamType::kInt, 2, 10),
          spec("hidden", ParamType::kLogInt, 8, 512),
          spec("booster", ParamType::kChoice, 0, 0, {"gbtree", "dart", "gblinear"}),
          spec("l2", ParamType::kFloat, 0, 10)};
}

class SamplerConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { sampler_ = make_sampler(GetParam()); }
  Params draw(const SearchSpace& space, uint64_t seed) const {
    return sampler_->sample(space, history_, seed);
  }
  std::unique_ptr<Sampler> sampler_;
  std::vector<TrialRecord> history_;
};

TEST_P(SamplerConformance, NameMatchesRegistry) { EXPECT_EQ(sampler_->name(), GetParam()); }

TEST_P(SamplerConformance, ValuesAreInRangeAndOfTheRightType) {
  SearchSpace space = narrowed(table(), {{"l2", 3.5}});
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Params p = draw(space, seed);
    ASSERT_EQ(p.size(), 6u) << p.dump();
    for (const auto& s : space.params) {
      ASSERT_TRUE(p.contains(s.name)) << s.name;
      const auto& v = p[s.name];
      switch (s.type) {
        case tabpilot::ParamType::kChoice:
          ASSERT_TRUE(v.is_string()) << v;
          EXPECT_NE(std::find(s.choices.begin(), s.choices.end(), v.get<std::string>()),
                    s.choices.end());
          continue;
        case tabpilot::ParamType::kInt:
        case tabpilot::ParamType::kLogInt:
          ASSERT_TRUE(v.is_number_integer()) << s.name << "=" << v;
          break;
        default:
          ASSERT_TRUE(v.is_number_float()) << s.name << "=" << v;
      }
      EXPECT_GE(v.get<double>(), s.low) << s.name;
      EXPECT_LE(v.get<double>(), s.high) << s.name;
    }
    EXPECT_EQ(p["l2"], 3.5);
    // What a sampler proposes is a legal parameter set for the table.
    EXPECT_NO_THROW(resolve_params(table(), p));
  }
}

TEST_P(SamplerConformance, FixedAndNarrowedValuesAreRespected) {
  SearchSpace space = narrowed(table(), {{"max_depth", 4.0},
                                         {"booster", "dart"},
                                         {"eta", {{"low", 0.01}, {"high", 0.1}}},
                                         {"hidden", {{"low", 32}, {"high", 32}}},
                                         {"l2", {{"high", 1.0}}}});
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Params p = draw(space, seed);
    EXPECT_EQ(p["max_depth"], 4);
    EXPECT_TRUE(p["max_depth"].is_number_integer());
    EXPECT_EQ(p["booster"], "dart");
    EXPECT_EQ(p["hidden"], 32);
    EXPECT_GE(p["eta"].get<double>(), 0.01);
    EXPECT_LE(p["eta"].get<double>(), 0.1);
    EXPECT_LE(p["l2"].get<double>(), 1.0);
  }
}

TEST_P(SamplerConformance, SameSeedGivesSameParams) {
  SearchSpace space = narrowed(table(), nullptr);
  auto other = make_sampler(GetParam());
  for (uint64_t seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
    Params a = draw(space, seed);
    EXPECT_EQ(a, draw(space, seed));
    EXPECT_EQ(a, other->sample(space, history_, seed));  // no state hidden in the instance
  }
}

TEST_P(SamplerConformance, DifferentSeedsGiveDifferentParams) {
  SearchSpace space = narrowed(table(), nullptr);
  std::set<std::string> seen;
  std::map<std::string, std::set<std::string>> per_param;
  constexpr int kSeeds = 200;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Params p = draw(space, seed);
    seen.insert(p.dump());
    for (const auto& [k, v] : p.items()) per_param[k].insert(v.dump());
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kSeeds));
  // Every parameter varies, not just one.
  EXPECT_EQ(per_param["booster"].size(), 3u);
  EXPECT_EQ(per_param["max_depth"].size(), 9u);
  EXPECT_GT(per_param["eta"].size(), 190u);
}

// Log-uniform on [1e-4, 1]: each of the four decades gets a quarter of the draws. With
// N = 4000 the count per decade has sd ~27, so +-20% (200) is a 7-sigma bound; a linear draw
// would put ~90% in the top decade.
TEST_P(SamplerConformance, LogRangesCoverEachDecadeEvenly) {
  SearchSpace space = narrowed(table(), nullptr);
  constexpr int kN = 4000;
  int decade[4] = {0, 0, 0, 0};
  int octave[6] = {0, 0, 0, 0, 0, 0};
  int depth[11] = {};
  std::map<std::string, int> booster;
  double sum_subsample = 0;
  for (int i = 0; i < kN; ++i) {
    Params p = draw(space, 1000 + i);
    double eta = p["eta"];
    decade[std::clamp(static_cast<int>(std::floor(std::log10(eta))) + 4, 0, 3)]++;
    int h = p["hidden"];
    octave[std::clamp(static_cast<int>(std::floor(std::log2(h))) - 3, 0, 5)]++;
    depth[p["max_depth"].get<int>()]++;
    booster[p["booster"]]++;
    sum_subsample += p["subsample"].get<double>();
  }
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(decade[d], kN / 4, kN / 20) << "decade " << d;
  // Octaves 8..512 for the log-int parameter: about a sixth each (edges get +-0.5 rounding).
  for (int o = 0; o < 6; ++o) EXPECT_NEAR(octave[o], kN / 6, kN / 20) << "octave " << o;
  for (int d = 2; d <= 10; ++d) EXPECT_NEAR(depth[d], kN / 9, kN / 30) << "depth " << d;
  for (const auto& [name, n] : booster) EXPECT_NEAR(n, kN / 3, kN / 20) << name;
  EXPECT_NEAR(sum_subsample / kN, 0.75, 0.02);  // uniform on [0.5, 1]: sd of mean ~0.0023
}

// The joint space of a job: three candidates with different tables, one narrowed and fixed.
struct JointJob {
  std::vector<SearchSpace> spaces;
  std::vector<const SearchSpace*> ptrs;
  std::vector<std::string> names = {"dpp0-x", "dpp1-y", "dpp2-z"};
  std::vector<TrialRecord> history;

  JointJob() {
    spaces.push_back(narrowed(table(), nullptr));
    spaces.push_back(narrowed(table(), {{"booster", "dart"}, {"eta", {{"low", 0.01}}}}));
    SearchSpace small;
    small.params = {spec("width", ParamType::kLogInt, 16, 512),
                    spec("dropout", ParamType::kFloat, 0.0, 0.5)};
    small.fixed = {{"layers", 2}};
    spaces.push_back(small);
    for (const auto& sp : spaces) ptrs.push_back(&sp);
  }
  // n trials from `s` of every state; the objective prefers small eta / width.
  void fill(const Sampler& s, int n, Direction direction) {
    for (int i = 0; i < n; ++i) {
      Proposal p = s.propose(ptrs, names, history, direction, 5000 + i);
      TrialRecord t;
      t.id = i + 1;
      t.candidate = names[p.candidate];
      t.params = p.params;
      t.started_at = 100 + i;
      t.finished_at = 101 + i + p.candidate;
      const int kind = i % 10;
      t.state = kind == 7   ? TrialState::kFail
                : kind == 8 ? TrialState::kPruned
                : kind == 9 ? TrialState::kRunning
                            : TrialState::kComplete;
      if (t.state == TrialState::kComplete) {
        double v = p.params.contains("eta") ? std::log(p.params["eta"].get<double>())
                                            : std::log(p.params["width"].get<double>()) - 5;
        t.objective = direction == Direction::kMinimize ? v : -v;
      }
      history.push_back(t);
    }
  }
};

void expect_legal(const JointJob& job, const Proposal& p) {
  ASSERT_LT(p.candidate, job.spaces.size());
  const SearchSpace& space = job.spaces[p.candidate];
  EXPECT_EQ(p.params.size(), space.params.size() + space.fixed.size()) << p.params.dump();
  for (const auto& s : space.params) {
    ASSERT_TRUE(p.params.contains(s.name)) << s.name;
    const auto& v = p.params[s.name];
    if (s.type == ParamType::kChoice) {
      ASSERT_TRUE(v.is_string());
      EXPECT_NE(std::find(s.choices.begin(), s.choices.end(), v.get<std::string>()),
                s.choices.end());
      continue;
    }
    if (s.type == ParamType::kInt || s.type == ParamType::kLogInt)
      EXPECT_TRUE(v.is_number_integer()) << s.name << "=" << v;
    else
      EXPECT_TRUE(v.is_number_float()) << s.name << "=" << v;
    EXPECT_GE(v.get<double>(), s.low) << s.name;
    EXPECT_LE(v.get<double>(), s.high) << s.name;
  }
  for (const auto& [k, v] : space.fixed.items()) EXPECT_EQ(p.params[k], v) << k;
}

TEST_P(SamplerConformance, ProposalsStayInTheChosenCandidatesSpace) {
  for (Direction d : {Direction::kMinimize, Direction::kMaximize}) {
    JointJob job;
    job.fill(*sampler_, 60, d);
    std::set<size_t> candidates;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      Proposal p = sampler_->propose(job.ptrs, job.names, job.history, d, seed);
      expect_legal(job, p);
      candidates.insert(p.candidate);
    }
    EXPECT_EQ(candidates.size(), 3u) << "every candidate stays reachable";
    for (const auto& t : job.history) {
      size_t c = std::find(job.names.begin(), job.names.end(), t.candidate) - job.names.begin();
      expect_legal(job, Proposal{c, t.params});
    }
  }
}

TEST_P(SamplerConformance, SampleWithAHistoryStaysInRange) {
  JointJob job;
  job.fill(*sampler_, 40, Direction::kMinimize);
  std::vector<TrialRecord> own;
  for (const auto& t : job.history)
    if (t.candidate == job.names[1]) own.push_back(t);
  for (uint64_t seed = 0; seed < 100; ++seed)
    expect_legal(job, Proposal{1, sampler_->sample(job.spaces[1], own, seed)});
}

TEST_P(SamplerConformance, ProposeIsDeterministicAndSafeFromManyThreads) {
  JointJob job;
  job.fill(*sampler_, 50, Direction::kMinimize);
  constexpr int kThreads = 4, kPer = 25;
  std::vector<Proposal> sequential;
  for (int i = 0; i < kThreads * kPer; ++i)
    sequential.push_back(
        sampler_->propose(job.ptrs, job.names, job.history, Direction::kMinimize, i));
  std::vector<Proposal> parallel(sequential.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < kThreads * kPer; i += kThreads)
        parallel[i] = sampler_->propose(job.ptrs, job.names, job.history, Direction::kMinimize, i);
    });
  for (auto& th : threads) th.join();
  std::set<std::string> distinct;
  for (size_t i = 0; i < sequential.size(); ++i) {
    EXPECT_EQ(parallel[i].candidate, sequential[i].candidate) << i;
    EXPECT_EQ(parallel[i].params, sequential[i].params) << i;
    distinct.insert(std::to_string(sequential[i].candidate) + sequential[i].params.dump());
  }
  EXPECT_GT(distinct.size(), sequential.size() * 9 / 10);  // seeds matter
}

TEST_P(SamplerConformance, ProposeRejectsMismatchedLists) {
  JointJob job;
  EXPECT_THROW(sampler_->propose({}, {}, {}, Direction::kMinimize, 1), std::invalid_argument);
  EXPECT_THROW(sampler_->propose(job.ptrs, {"a"}, {}, Direction::kMinimize, 1),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(AllSamplers, SamplerConformance, ::testing::ValuesIn(sampler_names()),
                         [](const auto& info) { return info.param; });

TEST(SamplerRegistry, UnknownNameListsKnownOnes) {
  EXPECT_EQ(make_sampler("random")->name(), "random");
  try {
    make_sampler("bayesian-magic");
    FAIL() << "expected a throw";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("random"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bayesian-magic"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tabpilot
