// The KLL sketch and Deequ's L-infinity distances against hand-computed and exact values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tabpilot/common/error.h"
#include "tabpilot/monitor/drift.h"
#include "tabpilot/monitor/kll_sketch.h"

using namespace tabpilot::monitor;

namespace {

KllSketch sketch_of(const std::vector<double>& values) {
  KllSketch s;
  for (double v : values) s.update(v);
  return s;
}

double exact_cdf(std::vector<double> v, double x) {
  return static_cast<double>(std::count_if(v.begin(), v.end(), [x](double y) { return y <= x; })) /
         static_cast<double>(v.size());
}

}  // namespace

TEST(KllSketch, ExactBelowSketchSize) {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(std::sin(i) * 100);
  const KllSketch s = sketch_of(v);
  EXPECT_EQ(s.count(), 1000u);
  for (double x : {-100.0, -50.0, 0.0, 12.5, 99.0, 100.0}) EXPECT_DOUBLE_EQ(s.cdf(x), exact_cdf(v, x));
  EXPECT_EQ(s.to_json()["data"].size(), 1u);  // nothing compacted
}

TEST(KllSketch, LargeStreamKeepsCountAndRankError) {
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(10, 3);
  std::vector<double> v(200000);
  for (double& x : v) x = normal(rng);
  const KllSketch s = sketch_of(v);
  EXPECT_EQ(s.count(), v.size());  // compaction preserves the total weight exactly
  uint64_t weight = 0;
  for (const auto& [value, w] : s.weighted_items()) weight += w;
  EXPECT_EQ(weight, v.size());
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99}) {
    const double x = sorted[static_cast<size_t>(q * static_cast<double>(v.size()))];
    EXPECT_NEAR(s.cdf(x), q, 0.01) << "q=" << q;  // KLL with k=2048: rank error well under 1%
  }
  EXPECT_LT(s.weighted_items().size(), 10000u);  // it is a sketch, not a copy
}

TEST(KllSketch, JsonRoundTrip) {
  std::vector<double> v;
  for (int i = 0; i < 50000; ++i) v.push_back(i % 977);
  const KllSketch s = sketch_of(v);
  const auto j = s.to_json();
  EXPECT_EQ(j["parameters"]["k"], 2048);
  EXPECT_DOUBLE_EQ(j["parameters"]["c"].get<double>(), 0.64);
  const KllSketch back = KllSketch::from_json(j, "test");
  EXPECT_EQ(back.count(), s.count());
  for (double x : {0.0, 100.0, 500.5, 976.0}) EXPECT_DOUBLE_EQ(back.cdf(x), s.cdf(x));
  EXPECT_THROW(KllSketch::from_json(nlohmann::json{{"data", 1}}, "x"), tabpilot::InputError);
}

TEST(Drift, NumericLinfOnHandCase) {
  // CDFs at 1..6: a = .25 .5 .75 1 1 1, b = 0 0 .25 .5 .75 1 -> max difference 0.5 (at 2, 3, 4).
  EXPECT_DOUBLE_EQ(linf_numeric(sketch_of({1, 2, 3, 4}), sketch_of({3, 4, 5, 6})), 0.5);
  EXPECT_DOUBLE_EQ(linf_numeric(sketch_of({1, 2, 3}), sketch_of({3, 2, 1})), 0.0);
  EXPECT_DOUBLE_EQ(linf_numeric(sketch_of({1, 2}), sketch_of({10, 20})), 1.0);
  // Ties: a = {1,1,1,2}, b = {1,2,2,2}: at 1: .75 vs .25.
  EXPECT_DOUBLE_EQ(linf_numeric(sketch_of({1, 1, 1, 2}), sketch_of({1, 2, 2, 2})), 0.5);
  EXPECT_DOUBLE_EQ(linf_numeric(sketch_of({}), sketch_of({1})), 0.0);
}

TEST(Drift, CategoricalLinfOnHandCase) {
  // a: x .75, y .25; b: x .5, z .5 -> |.75-.5|, |.25-0|, |0-.5| -> 0.5
  EXPECT_DOUBLE_EQ(linf_categorical({{"x", 3}, {"y", 1}}, 4, {{"x", 1}, {"z", 1}}, 2), 0.5);
  EXPECT_DOUBLE_EQ(linf_categorical({{"x", 2}, {"y", 2}}, 4, {{"y", 5}, {"x", 5}}, 10), 0.0);
  // Normalised by the full totals, not by what the lists hold.
  EXPECT_DOUBLE_EQ(linf_categorical({{"x", 5}}, 10, {{"x", 10}}, 10), 0.5);
}

TEST(Drift, RobustSubtractsKsCriticalValue) {
  EXPECT_DOUBLE_EQ(linf_robust(0.5, 4, 2), 0.0);  // 1.8 * sqrt(6 / 8) = 1.56 > 0.5
  EXPECT_NEAR(linf_robust(0.5, 10000, 10000), 0.5 - 1.8 * std::sqrt(2.0 / 10000), 1e-15);
  EXPECT_NEAR(linf_robust(0.3, 100, 400), 0.3 - 1.8 * std::sqrt(500.0 / 40000), 1e-15);
  EXPECT_DOUBLE_EQ(linf_robust(0.3, 0, 10), 0.3);
}
