// One suite run against every registered sampler (Optuna's habit): ranges, types, fixed
// values, determinism in the seed, and the shape of the distribution on log ranges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

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
