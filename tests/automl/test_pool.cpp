// The ensemble pool, the threshold choice and the pool's ensemble as functions of their
// inputs (before, they were only reachable through a whole job).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tabpilot/automl/pool_ensemble.h"
#include "tabpilot/automl/threshold.h"
#include "tabpilot/automl/trial_pool.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

PoolEntry entry(int64_t id, size_t cand, double objective) {
  PoolEntry e;
  e.id = id;
  e.name = "t" + std::to_string(id);
  e.cand = cand;
  e.objective = objective;
  return e;
}

std::vector<std::string> names(const TrialPool& p) {
  std::vector<std::string> out;
  for (const auto& e : p.entries()) out.push_back(e.name);
  return out;
}

TEST(TrialPool, KeepsTheBestInRankOrderTiesToTheEarlierTrial) {
  TrialPool p(3, 3, /*higher_is_better=*/false);
  for (auto [id, obj] : std::vector<std::pair<int, double>>{{1, 5.0}, {2, 3.0}, {3, 4.0}})
    EXPECT_TRUE(p.insert(entry(id, id, obj)).empty());
  EXPECT_EQ(names(p), (std::vector<std::string>{"t2", "t3", "t1"}));
  EXPECT_FALSE(p.admits(9, 6.0, 9));
  EXPECT_TRUE(p.admits(9, 4.5, 9));
  EXPECT_FALSE(p.admits(9, 5.0, 9));  // equal to the worst: the earlier trial keeps its place
  EXPECT_TRUE(p.admits(0, 5.0, 0));
  EXPECT_EQ(p.insert(entry(4, 4, 3.0)), (std::vector<std::string>{"t1"}));
  EXPECT_EQ(names(p), (std::vector<std::string>{"t2", "t4", "t3"}));
  TrialPool up(2, 2, /*higher_is_better=*/true);
  up.insert(entry(1, 0, 0.5));
  up.insert(entry(2, 1, 0.9));
  EXPECT_EQ(up.best().name, "t2");
}

TEST(TrialPool, AtMostPerCandidateOfOneCandidate) {
  TrialPool p(10, 2, false);
  p.insert(entry(1, 0, 1.0));
  p.insert(entry(2, 0, 2.0));
  p.insert(entry(3, 1, 9.0));
  EXPECT_FALSE(p.admits(0, 3.0, 4));  // candidate 0 is full and 3.0 beats neither of its two
  EXPECT_TRUE(p.admits(0, 1.5, 4));   // ... 1.5 displaces its worst
  EXPECT_EQ(p.insert(entry(4, 0, 1.5)), (std::vector<std::string>{"t2"}));
  EXPECT_EQ(names(p), (std::vector<std::string>{"t1", "t4", "t3"}));
}

TEST(Threshold, MovesToWhereTheClassesSeparate) {
  // Positives score 0.30-0.40, negatives 0.00-0.20: at 0.5 nothing is positive (F1 = 0).
  std::vector<float> y, pred;
  for (int i = 0; i < 100; ++i) {
    const bool pos = i % 4 == 0;
    const float p1 = pos ? 0.30f + 0.001f * float(i % 50) : 0.002f * float(i % 100);
    y.push_back(pos ? 1.0f : 0.0f);
    pred.push_back(1.0f - p1);
    pred.push_back(p1);
  }
  const auto t = choose_threshold(Task::kBinary, Metric::kF1, y, pred);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->at_half, 0.0);
  EXPECT_EQ(t->at_threshold, 1.0);
  EXPECT_GT(t->value, 0.198f);
  EXPECT_LE(t->value, 0.30f);
  EXPECT_FALSE(choose_threshold(Task::kBinary, Metric::kPrecision, y, pred));
  EXPECT_FALSE(choose_threshold(Task::kBinary, Metric::kAUC, y, pred));
  EXPECT_FALSE(choose_threshold(Task::kRegression, Metric::kF1, y, pred));
}

TEST(Threshold, KeepsHalfWhenNothingBeatsIt) {
  std::vector<float> y = {0, 1, 0, 1}, pred = {0.9f, 0.1f, 0.2f, 0.8f, 0.7f, 0.3f, 0.4f, 0.6f};
  const auto t = choose_threshold(Task::kBinary, Metric::kAccuracy, y, pred);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->value, 0.5f);
  EXPECT_EQ(t->at_threshold, 1.0);
}

// A pool entry whose "model" is one linear member trained elsewhere: only its predictions
// matter to the selection; the members are copied into the ensemble.
PoolEntry model_entry(int64_t id, std::vector<float> oof) {
  PoolEntry e = entry(id, static_cast<size_t>(id), 0);
  e.oof = std::move(oof);
  e.pipeline = std::make_shared<Pipeline>();
  PipelineMember m;
  m.learner_name = "linear";
  m.learner = make_learner("linear");
  Matrix x(4, 1);
  for (int i = 0; i < 4; ++i) x.at(i, 0) = float(i);
  std::vector<float> y = {0, 1, 2, 3};
  FitData d;
  d.x_train = x.view();
  d.y_train = &y;
  m.learner->fit(d, {}, {});
  e.pipeline->members.push_back(std::move(m));
  return e;
}

TEST(PoolEnsemble, CombinesModelsWithIndependentErrorsAndNotCopies) {
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> y(400), a(400), b(400);
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = float(i % 17);
    a[i] = y[i] + noise(rng);
    b[i] = y[i] + noise(rng);
  }
  std::vector<PoolEntry> pool;
  pool.push_back(model_entry(1, a));
  pool.push_back(model_entry(2, b));
  PoolEnsemble e = ensemble_of_pool(pool, y, Task::kRegression, 1, Metric::kMSE, "auto", 25);
  ASSERT_TRUE(e.used) << e.info.dump();
  EXPECT_EQ(e.members.size(), 2u);
  EXPECT_NEAR(e.members[0].weight + e.members[1].weight, 1.0, 1e-12);
  EXPECT_LT(e.objective, e.info["best_single_objective"].get<double>() * 0.75);  // ~half the MSE
  // Two identical models: nothing to combine.
  std::vector<PoolEntry> same;
  same.push_back(model_entry(1, a));
  same.push_back(model_entry(2, a));
  PoolEnsemble s = ensemble_of_pool(same, y, Task::kRegression, 1, Metric::kMSE, "auto", 25);
  EXPECT_FALSE(s.used);
  EXPECT_EQ(s.info["used"], false);
  EXPECT_TRUE(s.members.empty());
}

}  // namespace
}  // namespace tabpilot
