// The conformance suite every TrialStore backend passes: round trips, the state machine,
// trial numbers handed out atomically (also to two handles on one job), leases and requeue,
// artifacts, persistence, and concurrent writers.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "store_backends.h"

namespace tabpilot {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class TrialStoreConformance : public ::testing::TestWithParam<testing::StoreBackend> {
 protected:
  void SetUp() override {
    if (!GetParam().available) GTEST_SKIP() << GetParam().why_not;
    location_ = GetParam().new_location();
  }
  std::unique_ptr<TrialStore> open() { return GetParam().open(location_); }
  std::string location_;
};

NewTrial create(TrialStore& s, const std::string& prefix, const nlohmann::json& params = {}) {
  return s.create_trial(TrialDraft{prefix, prefix, "linear",
                                   params.is_null() ? nlohmann::json::object() : params});
}

TEST(TrialState, NamesRoundTrip) {
  for (TrialState s : {TrialState::kWaiting, TrialState::kRunning, TrialState::kComplete,
                       TrialState::kPruned, TrialState::kFail})
    EXPECT_EQ(trial_state_from_string(to_string(s)), s);
  EXPECT_EQ(to_string(TrialState::kPruned), "PRUNED");
  EXPECT_THROW(trial_state_from_string("DONE"), std::runtime_error);
}

TEST_P(TrialStoreConformance, JobDocumentAndValuesAreReplaced) {
  auto store = open();
  EXPECT_FALSE(store->get_job().has_value());
  store->put_job({{"status", "running"}, {"config", {{"target", "rings"}}}});
  store->put_job({{"status", "done"}, {"best", "t-3"}});
  EXPECT_EQ(*store->get_job(), (nlohmann::json{{"status", "done"}, {"best", "t-3"}}));
  EXPECT_FALSE(store->get_value("elapsed").has_value());
  store->put_value("elapsed", 1.5);
  store->put_value("elapsed", 2.5);
  EXPECT_EQ(*store->get_value("elapsed"), 2.5);
}

TEST_P(TrialStoreConformance, TrialRoundTripKeepsEveryField) {
  auto store = open();
  const double t0 = now_s();
  const nlohmann::json params = {{"eta", 0.125}, {"max_depth", 6}, {"booster", "gbtree"}};
  const NewTrial a = store->create_trial(TrialDraft{"dpp1-xgboost", "dpp1-xgboost", "xgboost", params});
  const NewTrial b = store->create_trial(TrialDraft{"dpp2-linear", "dpp2-linear", "linear", {{"l2", 1e-3}}});
  EXPECT_EQ(a.index, 0);
  EXPECT_EQ(a.name, "dpp1-xgboost-001");
  EXPECT_EQ(b.index, 1);
  EXPECT_EQ(b.name, "dpp2-linear-002");
  EXPECT_LT(a.id, b.id);

  auto waiting = store->trial(a.id);
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->state, TrialState::kWaiting);
  EXPECT_EQ(waiting->started_at, 0.0);
  EXPECT_FALSE(waiting->objective.has_value());
  EXPECT_EQ(waiting->owner, "");

  store->start_trial(a.id, "host-a:1:2");
  store->report_intermediate(a.id, 2, 0.5);
  store->report_intermediate(a.id, 0, 2.0);
  store->report_intermediate(a.id, 1, 1.0);
  store->report_intermediate(a.id, 1, 0.75);  // a repeated step keeps the latest value
  const nlohmann::json metrics = {{"validation", {{"MSE", 1.25}, {"R2", 0.5}}},
                                  {"train", {{"MSE", 0.5}}}};
  const nlohmann::json info = {{"best_iteration", 41}, {"seconds", 0.25}};
  store->finish_trial(a.id, TrialState::kComplete, metrics, 1.25, "", info);
  store->start_trial(b.id, "host-a:1:2");
  store->finish_trial(b.id, TrialState::kFail, nlohmann::json::object(), std::nullopt,
                      "non-finite loss at epoch 3", nlohmann::json::object());
  const double t1 = now_s();

  auto all = store->trials();
  ASSERT_EQ(all.size(), 2u);
  const TrialRecord& r = all[0];
  EXPECT_EQ(r.id, a.id);
  EXPECT_EQ(r.index, 0);
  EXPECT_EQ(r.name, "dpp1-xgboost-001");
  EXPECT_EQ(r.candidate, "dpp1-xgboost");
  EXPECT_EQ(r.learner, "xgboost");
  EXPECT_EQ(r.state, TrialState::kComplete);
  EXPECT_EQ(r.params, params);
  EXPECT_TRUE(r.params["max_depth"].is_number_integer());
  EXPECT_EQ(r.metrics, metrics);
  EXPECT_EQ(r.info, info);
  ASSERT_TRUE(r.objective);
  EXPECT_DOUBLE_EQ(*r.objective, 1.25);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.owner, "host-a:1:2");  // who ran it stays recorded
  using Step = std::pair<int, double>;
  EXPECT_EQ(r.intermediate, (std::vector<Step>{{0, 2.0}, {1, 0.75}, {2, 0.5}}));
  EXPECT_GE(r.created_at, t0 - 1);
  EXPECT_LE(r.created_at, r.started_at);
  EXPECT_LE(r.started_at, r.finished_at);
  EXPECT_LE(r.finished_at, t1 + 1);

  const TrialRecord& f = all[1];
  EXPECT_EQ(f.state, TrialState::kFail);
  EXPECT_FALSE(f.objective.has_value());
  EXPECT_EQ(f.error, "non-finite loss at epoch 3");
  EXPECT_TRUE(f.intermediate.empty());

  auto single = store->trial(a.id);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->intermediate, r.intermediate);
  EXPECT_FALSE(store->trial(9999).has_value());
}

TEST_P(TrialStoreConformance, NamesFollowTheNumberAndTheDraft) {
  auto store = open();
  int seen = -1;
  const NewTrial t = store->create_trial([&](int index) {
    seen = index;
    return TrialDraft{"cand", "cand", "mlp", {{"seed_from", index}}, 3};
  });
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(store->trial(t.id)->params["seed_from"], 0);
  const NewTrial e = store->create_trial(TrialDraft{"ensemble", "ensemble", "ensemble", {}, 1});
  EXPECT_EQ(e.name, "ensemble-2");
  for (int i = 0; i < 8; ++i) create(*store, "c");
  EXPECT_EQ(create(*store, "c").name, "c-011");
}

TEST_P(TrialStoreConformance, NanIntermediateAndObjectiveSurvive) {
  auto store = open();
  const NewTrial t = create(*store, "t");
  store->start_trial(t.id, "w");
  store->report_intermediate(t.id, 0, std::nan(""));
  store->finish_trial(t.id, TrialState::kComplete, {}, std::nan(""), "", {});
  auto r = store->trial(t.id);
  ASSERT_EQ(r->intermediate.size(), 1u);
  EXPECT_TRUE(std::isnan(r->intermediate[0].second));
  EXPECT_FALSE(r->objective.has_value());
}

TEST_P(TrialStoreConformance, IllegalTransitionsThrowAndChangeNothing) {
  auto store = open();
  const int64_t id = create(*store, "t", {{"l2", 1.0}}).id;
  EXPECT_THROW(store->finish_trial(id, TrialState::kComplete, {}, 1.0, "", {}), std::logic_error);
  EXPECT_THROW(store->report_intermediate(id, 0, 1.0), std::logic_error);
  store->start_trial(id, "w");
  EXPECT_THROW(store->start_trial(id, "w"), std::logic_error);
  EXPECT_THROW(store->finish_trial(id, TrialState::kRunning, {}, 1.0, "", {}),
               std::invalid_argument);
  store->finish_trial(id, TrialState::kPruned, {{"validation", {{"MSE", 3.0}}}}, std::nullopt,
                      "pruned at step 4", {});
  EXPECT_THROW(store->finish_trial(id, TrialState::kComplete, {}, 0.5, "", {}), std::logic_error);
  EXPECT_THROW(store->start_trial(id, "w"), std::logic_error);
  EXPECT_THROW(store->report_intermediate(id, 5, 1.0), std::logic_error);
  auto r = store->trial(id);
  EXPECT_EQ(r->state, TrialState::kPruned);
  EXPECT_EQ(r->error, "pruned at step 4");
  EXPECT_FALSE(r->objective.has_value());
  EXPECT_TRUE(r->intermediate.empty());
  EXPECT_THROW(store->start_trial(424242, "w"), std::out_of_range);
  EXPECT_THROW(store->finish_trial(424242, TrialState::kFail, {}, std::nullopt, "x", {}),
               std::out_of_range);
}

// Leases: a heartbeat renews only the owner's RUNNING trials; requeue resets only the RUNNING
// trials it is given (their curves dropped), and a requeued trial runs again.
TEST_P(TrialStoreConformance, HeartbeatsAndRequeueTouchOnlyTheirTrials) {
  auto store = open();
  const int64_t done = create(*store, "a").id, mine = create(*store, "b").id,
                wait = create(*store, "c").id, theirs = create(*store, "d").id;
  store->start_trial(done, "me");
  store->report_intermediate(done, 0, 1.0);
  store->finish_trial(done, TrialState::kComplete, {}, 1.0, "", {});
  store->start_trial(mine, "me");
  store->report_intermediate(mine, 0, 9.0);
  store->start_trial(theirs, "them");
  const double before = store->trial(mine)->heartbeat_at;
  EXPECT_GT(before, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store->heartbeat("me"), 1);
  EXPECT_GT(store->trial(mine)->heartbeat_at, before);
  EXPECT_EQ(store->heartbeat("nobody"), 0);

  EXPECT_EQ(store->requeue({*store->trial(mine), *store->trial(done), *store->trial(wait)}),
            1);  // only the RUNNING one of these
  EXPECT_EQ(store->trial(done)->state, TrialState::kComplete);
  EXPECT_EQ(store->trial(done)->intermediate.size(), 1u);
  EXPECT_EQ(store->trial(wait)->state, TrialState::kWaiting);
  EXPECT_EQ(store->trial(theirs)->state, TrialState::kRunning);
  auto r = store->trial(mine);
  EXPECT_EQ(r->state, TrialState::kWaiting);
  EXPECT_EQ(r->started_at, 0.0);
  EXPECT_EQ(r->owner, "");
  EXPECT_TRUE(r->intermediate.empty());
  store->start_trial(mine, "other");
  EXPECT_EQ(store->trial(mine)->owner, "other");
}

// Two workers judge one lease lapsed from what they read; the first re-queues the trial and a
// third worker claims it, or its owner renews the lease, before the second acts: the second
// must not take the trial away.
TEST_P(TrialStoreConformance, RequeueActsOnlyOnTheLeaseItSaw) {
  auto store = open();
  const NewTrial a = create(*store, "t"), b = create(*store, "t");
  store->start_trial(a.id, "dead");
  store->start_trial(b.id, "slow");
  const TrialRecord seen_a = *store->trial(a.id), seen_b = *store->trial(b.id);
  EXPECT_EQ(store->requeue({seen_a}), 1);
  const auto claimed = store->claim_waiting("third");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, a.id);
  EXPECT_EQ(store->requeue({seen_a}), 0);  // stale: the trial has another owner now
  EXPECT_EQ(store->trial(a.id)->owner, "third");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store->heartbeat("slow"), 1);
  EXPECT_EQ(store->requeue({seen_b}), 0);  // stale: the owner renewed its lease since
  EXPECT_EQ(store->trial(b.id)->state, TrialState::kRunning);
  EXPECT_EQ(store->requeue({*store->trial(b.id)}), 1);  // as it is now: lapsed
}

TEST_P(TrialStoreConformance, ArtifactsAreReplacedAsAWholeAndRemoved) {
  auto store = open();
  EXPECT_FALSE(store->get_artifacts("dpp0-xgboost-001").has_value());
  std::string binary(256, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i);
  store->put_artifacts("dpp0-xgboost-001", {{"model.json", "{}"}, {"w.bin", binary}});
  store->put_artifacts("dpp1-linear-002", {{"model.json", "{\"x\":1}"}});
  auto a = store->get_artifacts("dpp0-xgboost-001");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(a->at("w.bin"), binary);
  store->put_artifacts("dpp0-xgboost-001", {{"model.json", "{\"v\":2}"}});
  a = store->get_artifacts("dpp0-xgboost-001");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (ArtifactFiles{{"model.json", "{\"v\":2}"}}));  // the old set is gone
  EXPECT_EQ(store->artifact_trials(),
            (std::vector<std::string>{"dpp0-xgboost-001", "dpp1-linear-002"}));
  store->remove_artifacts("dpp0-xgboost-001");
  EXPECT_FALSE(store->get_artifacts("dpp0-xgboost-001").has_value());
  EXPECT_EQ(store->artifact_trials(), (std::vector<std::string>{"dpp1-linear-002"}));
  EXPECT_THROW(store->put_artifacts("../escape", {{"x", "y"}}), std::invalid_argument);
  EXPECT_THROW(store->put_artifacts("t", {{"../x", "y"}}), std::invalid_argument);
}

TEST_P(TrialStoreConformance, ReopenedStoreHoldsEverything) {
  std::vector<TrialRecord> before;
  {
    auto store = open();
    store->put_job({{"name", "abalone"}, {"status", "running"}});
    for (int i = 0; i < 5; ++i) {
      const int64_t id = create(*store, "t", {{"i", i}, {"eta", 0.1 * i}}).id;
      if (i % 2 == 0) {
        store->start_trial(id, "w");
        store->report_intermediate(id, 0, i * 1.5);
      }
      if (i == 0) store->finish_trial(id, TrialState::kComplete, {{"m", i}}, 0.25, "", {{"k", 1}});
    }
    store->put_artifacts("t-001", {{"a", "b"}});
    before = store->trials();
  }
  auto reopened = open();
  EXPECT_EQ(*reopened->get_job(), (nlohmann::json{{"name", "abalone"}, {"status", "running"}}));
  auto after = reopened->trials();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].index, before[i].index);
    EXPECT_EQ(after[i].name, before[i].name);
    EXPECT_EQ(after[i].state, before[i].state);
    EXPECT_EQ(after[i].params, before[i].params);
    EXPECT_EQ(after[i].metrics, before[i].metrics);
    EXPECT_EQ(after[i].info, before[i].info);
    EXPECT_EQ(after[i].objective, before[i].objective);
    EXPECT_EQ(after[i].intermediate, before[i].intermediate);
    EXPECT_EQ(after[i].owner, before[i].owner);
  }
  EXPECT_EQ(after[2].state, TrialState::kRunning);
  EXPECT_EQ(reopened->get_artifacts("t-001")->at("a"), "b");
  EXPECT_EQ(create(*reopened, "t").index, 5);  // numbers keep counting after a reopen
}

TEST_P(TrialStoreConformance, ConcurrentWritersOnOneHandleLoseNothing) {
  constexpr int kThreads = 8, kPerThread = 25;
  auto store = open();
  std::vector<int64_t> ids;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ids.push_back(create(*store, "t", {{"i", i}}).id);
    store->start_trial(ids.back(), "w");
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int k = t; k < kThreads * kPerThread; k += kThreads) {
        store->report_intermediate(ids[k], 0, k);
        store->finish_trial(ids[k], TrialState::kComplete, {{"k", k}}, 0.5 * k, "", {{"thread", t}});
      }
    });
  for (auto& th : threads) th.join();
  auto all = store->trials();
  ASSERT_EQ(all.size(), ids.size());
  for (size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(all[k].state, TrialState::kComplete);
    EXPECT_EQ(all[k].metrics, (nlohmann::json{{"k", k}}));
    EXPECT_EQ(all[k].objective, 0.5 * k);
    ASSERT_EQ(all[k].intermediate.size(), 1u);
  }
}

// Two handles on one job (two processes): every trial gets its own number and name, and
// nothing written by one is lost to the other.
TEST_P(TrialStoreConformance, TwoHandlesNeverShareATrialNumber) {
  auto a = open(), b = open();
  constexpr int kPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      TrialStore& s = t % 2 ? *a : *b;
      for (int i = 0; i < kPerThread; ++i) {
        const NewTrial n = create(s, "w" + std::to_string(t));
        s.start_trial(n.id, "w" + std::to_string(t));
        s.finish_trial(n.id, TrialState::kComplete, {}, t * 100.0 + i, "", {});
      }
    });
  for (auto& th : threads) th.join();
  const auto all = a->trials();
  ASSERT_EQ(all.size(), 4u * kPerThread);
  std::set<int> numbers;
  std::set<double> objectives;
  for (const auto& r : all) {
    EXPECT_EQ(r.state, TrialState::kComplete);
    numbers.insert(r.index);
    objectives.insert(*r.objective);
  }
  EXPECT_EQ(numbers.size(), all.size());
  EXPECT_EQ(*numbers.begin(), 0);
  EXPECT_EQ(*numbers.rbegin(), static_cast<int>(all.size()) - 1);
  EXPECT_EQ(objectives.size(), all.size());
}

// Workers claiming re-queued trials at once: each trial goes to exactly one of them, oldest
// first, RUNNING and leased to it.
TEST_P(TrialStoreConformance, ClaimWaitingHandsEachTrialToExactlyOneWorker) {
  auto maker = open();
  constexpr int kTrials = 40, kWorkers = 4;
  std::vector<int64_t> made;
  for (int i = 0; i < kTrials; ++i) made.push_back(create(*maker, "t").id);
  // The oldest first.
  const auto first = maker->claim_waiting("solo");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, made[0]);
  EXPECT_EQ(first->state, TrialState::kRunning);
  EXPECT_EQ(first->owner, "solo");
  std::vector<std::vector<int64_t>> claimed(kWorkers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back([&, w] {
      auto mine = open();
      while (auto t = mine->claim_waiting("w" + std::to_string(w))) claimed[w].push_back(t->id);
    });
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  size_t total = 0;
  for (int w = 0; w < kWorkers; ++w) {
    total += claimed[w].size();
    all.insert(claimed[w].begin(), claimed[w].end());
    for (int64_t id : claimed[w]) {
      const auto t = maker->trial(id);
      EXPECT_EQ(t->state, TrialState::kRunning);
      EXPECT_EQ(t->owner, "w" + std::to_string(w));
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kTrials - 1));  // nobody got one twice
  EXPECT_EQ(all.size(), static_cast<size_t>(kTrials - 1));
  EXPECT_EQ(all.count(made[0]), 0u);
  EXPECT_FALSE(maker->claim_waiting("late").has_value());
}

// The incremental read a worker's history lives on: creations, starts, curves, ends and
// re-queues show; a lease renewal and nothing at all do not.
TEST_P(TrialStoreConformance, ChangesSinceSeesEveryChangeButNotLeaseRenewals) {
  auto store = open();
  auto other = open();  // changes made through another handle show as well
  const NewTrial a = create(*store, "t"), b = create(*store, "t");
  TrialChanges c = other->changes_since(0);
  ASSERT_EQ(c.trials.size(), 2u);
  EXPECT_EQ(c.trials[0].id, a.id);
  EXPECT_EQ(c.trials[1].id, b.id);
  const int64_t after_create = c.cursor;
  c = other->changes_since(after_create);
  EXPECT_TRUE(c.trials.empty());
  EXPECT_EQ(c.cursor, after_create);

  store->start_trial(a.id, "w1");
  c = other->changes_since(after_create);
  ASSERT_EQ(c.trials.size(), 1u);
  EXPECT_EQ(c.trials[0].state, TrialState::kRunning);
  const int64_t after_start = c.cursor;
  EXPECT_GT(after_start, after_create);

  EXPECT_EQ(store->heartbeat("w1"), 1);
  EXPECT_TRUE(other->changes_since(after_start).trials.empty());

  store->report_intermediate(a.id, 0, 0.75);
  c = other->changes_since(after_start);
  ASSERT_EQ(c.trials.size(), 1u);
  EXPECT_EQ(c.trials[0].intermediate, (std::vector<std::pair<int, double>>{{0, 0.75}}));
  const int64_t after_report = c.cursor;

  EXPECT_EQ(store->requeue({*store->trial(a.id)}), 1);
  c = other->changes_since(after_report);
  ASSERT_EQ(c.trials.size(), 1u);
  EXPECT_EQ(c.trials[0].state, TrialState::kWaiting);
  EXPECT_TRUE(c.trials[0].intermediate.empty());
  const int64_t after_requeue = c.cursor;

  store->start_trial(b.id, "w2");
  store->finish_trial(b.id, TrialState::kComplete, {}, 1.5, "", {});
  const NewTrial d = create(*store, "t");
  c = other->changes_since(after_requeue);
  ASSERT_EQ(c.trials.size(), 2u);
  EXPECT_EQ(c.trials[0].id, b.id);
  EXPECT_EQ(c.trials[0].objective, 1.5);
  EXPECT_EQ(c.trials[1].id, d.id);
}

TEST_P(TrialStoreConformance, OneArtifactFileIsReadAlone) {
  auto store = open();
  const std::string binary("\0\x01\xff model", 9);
  store->put_artifacts("t-001", {{"model.json", "{}"}, {"member_0.bin", binary}});
  EXPECT_EQ(store->get_artifact("t-001", "member_0.bin"), binary);
  EXPECT_EQ(store->get_artifact("t-001", "model.json"), "{}");
  EXPECT_FALSE(store->get_artifact("t-001", "absent.bin").has_value());
  EXPECT_FALSE(store->get_artifact("t-002", "model.json").has_value());
  EXPECT_THROW(store->get_artifact("t-001", "../store.sqlite"), std::invalid_argument);
  EXPECT_THROW(store->get_artifact("..", "model.json"), std::invalid_argument);
}

// fit --force on a job the store holds: the job is forgotten, another job is not.
TEST_P(TrialStoreConformance, ClearForgetsTheJobAndOnlyIt) {
  auto store = open();
  const std::string other_location = GetParam().new_location();
  auto other = GetParam().open(other_location);
  store->put_job({{"status", "done"}});
  store->put_value("elapsed", 3.0);
  const NewTrial a = create(*store, "t");
  store->start_trial(a.id, "w");
  store->report_intermediate(a.id, 0, 1.0);
  store->put_artifacts(a.name, {{"model.json", "{}"}});
  other->put_value("elapsed", 7.0);
  const NewTrial o = create(*other, "o");
  other->put_artifacts(o.name, {{"model.json", "[]"}});

  store->clear();
  EXPECT_TRUE(store->trials().empty());
  EXPECT_FALSE(store->get_job().has_value());
  EXPECT_FALSE(store->get_value("elapsed").has_value());
  EXPECT_TRUE(store->artifact_trials().empty());
  EXPECT_TRUE(store->changes_since(0).trials.empty());
  EXPECT_EQ(create(*store, "t").index, 0);  // numbering starts again

  EXPECT_EQ(other->trials().size(), 1u);
  EXPECT_EQ(*other->get_value("elapsed"), 7.0);
  EXPECT_EQ(other->get_artifact(o.name, "model.json"), "[]");
}

INSTANTIATE_TEST_SUITE_P(Backends, TrialStoreConformance,
                         ::testing::ValuesIn(testing::store_backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tabpilot
