// ASHA on synthetic learning curves: rung arithmetic, the top-1/eta rule against a hand
// count, the best curve never pruned, few peers, other candidates ignored, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tabpilot/tuner/pruner.h"

namespace tabpilot {
namespace {

TrialRecord trial(int64_t id, std::string candidate = "dpp0-xgboost") {
  TrialRecord t;
  t.id = id;
  t.candidate = std::move(candidate);
  t.state = TrialState::kRunning;
  return t;
}

// A peer that reported `value` at step 10 (rung 0 with the default config) and 20.
TrialRecord peer(int64_t id, double value, std::string candidate = "dpp0-xgboost") {
  TrialRecord t = trial(id, std::move(candidate));
  t.intermediate = {{10, value}, {20, value * 0.9}};
  return t;
}

TEST(Pruner, RungsAreMinResourceTimesPowersOfEta) {
  PrunerConfig c;  // 10, 3
  EXPECT_EQ(rung_step(c, 0), 10);
  EXPECT_EQ(rung_step(c, 1), 30);
  EXPECT_EQ(rung_step(c, 3), 270);
  c.min_resource = 1;
  c.eta = 2;
  EXPECT_EQ(rung_step(c, 4), 16);
}

TEST(Pruner, TopOneOverEtaAtTheRungContinuesByHandCount) {
  std::vector<TrialRecord> peers;
  for (int i = 0; i < 5; ++i) peers.push_back(peer(i + 1, 1.0 + i));  // 1 2 3 4 5
  PrunerConfig c;
  // 6 values at the rung: the best floor(6 / 3) = 2 go on, i.e. values <= 2.
  TrialRecord me = trial(99);
  auto d = judge(me, 10, 2.5, peers, c);
  EXPECT_TRUE(d.prune);
  EXPECT_EQ(d.rung, 0);
  EXPECT_NE(d.reason.find("rung 0"), std::string::npos) << d.reason;
  EXPECT_FALSE(judge(me, 10, 2.0, peers, c).prune);  // ties go on
  EXPECT_FALSE(judge(me, 10, 0.5, peers, c).prune);  // the best
  // Reports between rungs are not judged.
  me.intermediate = {{10, 9.0}};
  d = judge(me, 20, 9.0, peers, c);
  EXPECT_FALSE(d.prune);
  EXPECT_EQ(d.rung, -1);
}

TEST(Pruner, FewerThanEtaPeersAlwaysContinue) {
  PrunerConfig c;
  std::vector<TrialRecord> peers = {peer(1, 0.1), peer(2, 0.2)};
  EXPECT_FALSE(judge(trial(3), 10, 100.0, peers, c).prune);
  EXPECT_FALSE(judge(trial(3), 10, 100.0, {}, c).prune);
  peers.push_back(peer(4, 0.3));  // now eta peers: the worst is pruned
  EXPECT_TRUE(judge(trial(3), 10, 100.0, peers, c).prune);
}

TEST(Pruner, OnlyPeersOfTheSameCandidateOtherThanItselfCount) {
  PrunerConfig c;
  std::vector<TrialRecord> peers;
  for (int i = 0; i < 6; ++i) peers.push_back(peer(i + 1, 0.1 * (i + 1), "dpp1-mlp"));
  EXPECT_FALSE(judge(trial(10), 10, 5.0, peers, c).prune);  // all another candidate's
  TrialRecord me = peer(10, 5.0);  // itself in the list, its report already stored
  peers = {me, peer(11, 1), peer(12, 2)};
  EXPECT_FALSE(judge(trial(10), 10, 5.0, peers, c).prune);  // 2 peers besides itself
  peers.push_back(peer(13, 3));
  EXPECT_TRUE(judge(me, 10, 5.0, peers, c).prune);
}

TEST(Pruner, UnalignedStepsUseTheFirstReportPastTheRung) {
  PrunerConfig c;
  std::vector<TrialRecord> peers;
  for (int i = 0; i < 6; ++i) {
    TrialRecord p = trial(i + 1);
    p.intermediate = {{5, 100.0}, {15, 1.0 + i}, {35, 0.5 + i}};  // rung 0 at 15, rung 1 at 35
    peers.push_back(p);
  }
  TrialRecord me = trial(50);
  me.intermediate = {{5, 100.0}};
  EXPECT_TRUE(judge(me, 12, 4.0, peers, c).prune);   // rung 0: 4 vs 1..6, keep 2
  EXPECT_FALSE(judge(me, 12, 1.5, peers, c).prune);
  me.intermediate = {{5, 100.0}, {12, 1.5}};
  auto d = judge(me, 40, 3.0, peers, c);  // rung 1 (30): 3 vs 0.5..5.5, keep 2
  EXPECT_EQ(d.rung, 1);
  EXPECT_TRUE(d.prune);
  // A report jumping over two rungs is judged at the higher one.
  me.intermediate = {{5, 100.0}};
  EXPECT_EQ(judge(me, 40, 0.1, peers, c).rung, 1);
}

TEST(Pruner, NonFiniteValuesArePrunedAndDisabledNeverPrunes) {
  PrunerConfig c;
  EXPECT_TRUE(judge(trial(1), 3, NAN, {}, c).prune);
  EXPECT_TRUE(judge(trial(1), 3, INFINITY, {}, c).prune);
  c.enabled = false;
  std::vector<TrialRecord> peers;
  for (int i = 0; i < 9; ++i) peers.push_back(peer(i + 1, 0.1));
  EXPECT_FALSE(judge(trial(20), 10, 50.0, peers, c).prune);
  c = PrunerConfig{true, 0, 3};
  EXPECT_THROW(judge(trial(1), 1, 1.0, {}, c), std::invalid_argument);
  c = PrunerConfig{true, 1, 1};
  EXPECT_THROW(judge(trial(1), 1, 1.0, {}, c), std::invalid_argument);
}

// 27 trials with loss_i(t) = final_i + 2 / sqrt(t): curves never cross, so a trial's rank
// at every rung is its final rank. They run one after another in a shuffled order, each
// reporting every 10 steps up to 300 and stopping when pruned.
struct Outcome {
  std::vector<int> pruned_at;  // step, or -1 when it ran to the end; indexed by quality
};

Outcome run_curves(const std::vector<int>& order, const PrunerConfig& c) {
  std::vector<TrialRecord> store;
  Outcome out;
  out.pruned_at.assign(order.size(), -1);
  for (int q : order) {  // q: 0 = best final loss
    TrialRecord t = trial(static_cast<int64_t>(store.size()) + 1);
    for (int step = 10; step <= 300; step += 10) {
      double v = 0.1 * q + 2.0 / std::sqrt(static_cast<double>(step));
      auto d = judge(t, step, v, store, c);
      t.intermediate.push_back({step, v});
      if (d.prune) {
        out.pruned_at[q] = step;
        break;
      }
    }
    store.push_back(t);
  }
  return out;
}

std::vector<int> shuffled(int n, uint64_t seed) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  for (int i = n - 1; i > 0; --i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    std::swap(v[i], v[(seed >> 33) % static_cast<uint64_t>(i + 1)]);
  }
  return v;
}

TEST(Pruner, SyntheticCurvesArePrunedAsTheirOrderSays) {
  PrunerConfig c;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto order = shuffled(27, seed);
    Outcome o = run_curves(order, c);
    EXPECT_EQ(o.pruned_at[0], -1) << "the best curve was pruned, seed " << seed;
    // Each trial's fate by hand: at rung r, among the earlier trials that reached it (plus
    // itself), it goes on iff it ranks in the top max(1, n / 3), or there were < 3 of them.
    std::vector<int> reached10, reached30, reached90, reached270;
    for (int q : order) {
      auto goes_on = [&](std::vector<int>& reached) {
        bool ok = reached.size() < 3;
        if (!ok) {
          size_t n = reached.size() + 1, keep = std::max<size_t>(1, n / 3);
          size_t better = std::count_if(reached.begin(), reached.end(), [&](int p) { return p < q; });
          ok = better < keep;
        }
        reached.push_back(q);
        return ok;
      };
      int expected = -1;
      if (!goes_on(reached10)) expected = 10;
      else if (!goes_on(reached30)) expected = 30;
      else if (!goes_on(reached90)) expected = 90;
      else if (!goes_on(reached270)) expected = 270;
      EXPECT_EQ(o.pruned_at[q], expected) << "quality " << q << ", seed " << seed;
    }
    EXPECT_EQ(o.pruned_at, run_curves(order, c).pruned_at);  // deterministic
  }
  // Best first: every trial after the third is pruned at the first rung. Worst first: each
  // newcomer is the best so far, so nothing is pruned.
  std::vector<int> best_first(27), worst_first(27);
  for (int i = 0; i < 27; ++i) best_first[i] = i, worst_first[i] = 26 - i;
  Outcome o = run_curves(best_first, c);
  for (int q = 3; q < 27; ++q) EXPECT_EQ(o.pruned_at[q], 10) << q;
  o = run_curves(worst_first, c);
  for (int q = 0; q < 27; ++q) EXPECT_EQ(o.pruned_at[q], -1) << q;
}

}  // namespace
}  // namespace tabpilot
