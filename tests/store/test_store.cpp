// Store round trips, state machine, persistence, WAL and concurrent writers.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "support/test_paths.h"
#include "tabpilot/store/store.h"

namespace tabpilot {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string store_path() { return (testing::scratch_dir("store") / "store.sqlite").string(); }

// Reads one PRAGMA through a second, independent connection.
std::string raw_pragma(const std::string& path, const std::string& pragma) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("PRAGMA " + pragma).c_str(), -1, &st, nullptr), SQLITE_OK);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST(Store, TrialStateNamesRoundTrip) {
  for (TrialState s : {TrialState::kWaiting, TrialState::kRunning, TrialState::kComplete,
                       TrialState::kPruned, TrialState::kFail})
    EXPECT_EQ(trial_state_from_string(to_string(s)), s);
  EXPECT_EQ(to_string(TrialState::kPruned), "PRUNED");
  EXPECT_THROW(trial_state_from_string("DONE"), std::runtime_error);
}

TEST(Store, JobDocumentIsReplaced) {
  Store store(store_path());
  EXPECT_FALSE(store.get_job().has_value());
  store.put_job({{"status", "running"}, {"config", {{"target", "rings"}}}});
  store.put_job({{"status", "done"}, {"best", "t-3"}});
  auto job = store.get_job();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(*job, (nlohmann::json{{"status", "done"}, {"best", "t-3"}}));
}

TEST(Store, TrialRoundTripKeepsEveryField) {
  Store store(store_path());
  double t0 = now_s();
  nlohmann::json params = {{"eta", 0.125}, {"max_depth", 6}, {"booster", "gbtree"}};
  int64_t a = store.create_trial("job-dpp1-xgboost-000", "dpp1-xgboost", "xgboost", params);
  int64_t b = store.create_trial("job-dpp2-linear-001", "dpp2-linear", "linear", {{"l2", 1e-3}});
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);

  auto waiting = store.trial(a);
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->state, TrialState::kWaiting);
  EXPECT_EQ(waiting->started_at, 0.0);
  EXPECT_FALSE(waiting->objective.has_value());

  store.start_trial(a);
  store.report_intermediate(a, 2, 0.5);
  store.report_intermediate(a, 0, 2.0);
  store.report_intermediate(a, 1, 1.0);
  store.report_intermediate(a, 1, 0.75);  // a repeated step keeps the latest value
  nlohmann::json metrics = {{"validation", {{"MSE", 1.25}, {"R2", 0.5}}},
                            {"train", {{"MSE", 0.5}}}};
  nlohmann::json info = {{"best_iteration", 41}, {"seconds", 0.25}};
  store.finish_trial(a, TrialState::kComplete, metrics, 1.25, "", info);

  store.start_trial(b);
  store.finish_trial(b, TrialState::kFail, nlohmann::json::object(), std::nullopt,
                     "non-finite loss at epoch 3", nlohmann::json::object());
  double t1 = now_s();

  auto all = store.trials();
  ASSERT_EQ(all.size(), 2u);
  const TrialRecord& r = all[0];
  EXPECT_EQ(r.id, a);
  EXPECT_EQ(r.name, "job-dpp1-xgboost-000");
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
  using Step = std::pair<int, double>;
  EXPECT_EQ(r.intermediate, (std::vector<Step>{{0, 2.0}, {1, 0.75}, {2, 0.5}}));
  // Timestamps are Unix seconds taken during this test, in order.
  EXPECT_GE(r.created_at, t0 - 1);
  EXPECT_LE(r.created_at, r.started_at);
  EXPECT_LE(r.started_at, r.finished_at);
  EXPECT_LE(r.finished_at, t1 + 1);

  const TrialRecord& f = all[1];
  EXPECT_EQ(f.state, TrialState::kFail);
  EXPECT_FALSE(f.objective.has_value());
  EXPECT_EQ(f.error, "non-finite loss at epoch 3");
  EXPECT_TRUE(f.intermediate.empty());
  EXPECT_EQ(f.params, (nlohmann::json{{"l2", 1e-3}}));

  // trial(id) and trials() agree.
  auto single = store.trial(a);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->intermediate, r.intermediate);
  EXPECT_EQ(single->metrics, r.metrics);
  EXPECT_FALSE(store.trial(99).has_value());
}

TEST(Store, NanIntermediateAndObjectiveSurvive) {
  Store store(store_path());
  int64_t id = store.create_trial("t", "c", "mlp", nlohmann::json::object());
  store.start_trial(id);
  store.report_intermediate(id, 0, std::nan(""));
  store.finish_trial(id, TrialState::kComplete, {}, std::nan(""), "", {});
  auto r = store.trial(id);
  ASSERT_EQ(r->intermediate.size(), 1u);
  EXPECT_TRUE(std::isnan(r->intermediate[0].second));
  EXPECT_FALSE(r->objective.has_value());
}

TEST(Store, IllegalTransitionsThrowAndChangeNothing) {
  Store store(store_path());
  int64_t id = store.create_trial("t-0", "c", "linear", {{"l2", 1.0}});
  // Finishing or reporting before start.
  EXPECT_THROW(store.finish_trial(id, TrialState::kComplete, {}, 1.0, "", {}), std::logic_error);
  EXPECT_THROW(store.report_intermediate(id, 0, 1.0), std::logic_error);
  store.start_trial(id);
  EXPECT_THROW(store.start_trial(id), std::logic_error);
  // A non-final target state is a programming error.
  EXPECT_THROW(store.finish_trial(id, TrialState::kRunning, {}, 1.0, "", {}),
               std::invalid_argument);
  store.finish_trial(id, TrialState::kPruned, {{"validation", {{"MSE", 3.0}}}}, std::nullopt,
                     "pruned at step 4", {});
  EXPECT_THROW(store.finish_trial(id, TrialState::kComplete, {}, 0.5, "", {}), std::logic_error);
  EXPECT_THROW(store.start_trial(id), std::logic_error);
  EXPECT_THROW(store.report_intermediate(id, 5, 1.0), std::logic_error);
  auto r = store.trial(id);
  EXPECT_EQ(r->state, TrialState::kPruned);
  EXPECT_EQ(r->error, "pruned at step 4");
  EXPECT_FALSE(r->objective.has_value());
  EXPECT_TRUE(r->intermediate.empty());
  // Unknown ids.
  EXPECT_THROW(store.start_trial(42), std::out_of_range);
  EXPECT_THROW(store.finish_trial(42, TrialState::kFail, {}, std::nullopt, "x", {}),
               std::out_of_range);
}

TEST(Store, DuplicateNameThrowsNamingThePath) {
  std::string path = store_path();
  Store store(path);
  store.create_trial("same", "c", "linear", {});
  try {
    store.create_trial("same", "c", "linear", {});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("UNIQUE"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store.trials().size(), 1u);
}

TEST(Store, RequeueRunningResetsOnlyRunningTrials) {
  Store store(store_path());
  int64_t done = store.create_trial("a", "c", "linear", {});
  int64_t run1 = store.create_trial("b", "c", "linear", {});
  int64_t wait = store.create_trial("c", "c", "linear", {});
  int64_t run2 = store.create_trial("d", "c", "linear", {});
  store.start_trial(done);
  store.report_intermediate(done, 0, 1.0);
  store.finish_trial(done, TrialState::kComplete, {}, 1.0, "", {});
  store.start_trial(run1);
  store.report_intermediate(run1, 0, 9.0);
  store.start_trial(run2);
  EXPECT_EQ(store.requeue_running(), 2);
  EXPECT_EQ(store.requeue_running(), 0);
  EXPECT_EQ(store.trial(done)->state, TrialState::kComplete);
  EXPECT_EQ(store.trial(done)->intermediate.size(), 1u);
  EXPECT_EQ(store.trial(wait)->state, TrialState::kWaiting);
  for (int64_t id : {run1, run2}) {
    auto r = store.trial(id);
    EXPECT_EQ(r->state, TrialState::kWaiting);
    EXPECT_EQ(r->started_at, 0.0);
    EXPECT_TRUE(r->intermediate.empty());
  }
  store.start_trial(run1);  // a requeued trial can run again
  EXPECT_EQ(store.trial(run1)->state, TrialState::kRunning);
}

TEST(Store, ReopenedFileHoldsEverything) {
  std::string path = store_path();
  std::vector<TrialRecord> before;
  {
    Store store(path);
    store.put_job({{"name", "abalone"}, {"status", "running"}});
    for (int i = 0; i < 5; ++i) {
      int64_t id = store.create_trial("t-" + std::to_string(i), "cand", "xgboost",
                                      {{"i", i}, {"eta", 0.1 * i}});
      if (i % 2 == 0) {
        store.start_trial(id);
        store.report_intermediate(id, 0, i * 1.5);
      }
      if (i == 0) store.finish_trial(id, TrialState::kComplete, {{"m", i}}, 0.25, "", {{"k", 1}});
    }
    before = store.trials();
  }
  Store reopened(path);
  EXPECT_EQ(*reopened.get_job(), (nlohmann::json{{"name", "abalone"}, {"status", "running"}}));
  auto after = reopened.trials();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].name, before[i].name);
    EXPECT_EQ(after[i].state, before[i].state);
    EXPECT_EQ(after[i].params, before[i].params);
    EXPECT_EQ(after[i].metrics, before[i].metrics);
    EXPECT_EQ(after[i].info, before[i].info);
    EXPECT_EQ(after[i].objective, before[i].objective);
    EXPECT_EQ(after[i].intermediate, before[i].intermediate);
    EXPECT_EQ(after[i].created_at, before[i].created_at);
    EXPECT_EQ(after[i].finished_at, before[i].finished_at);
  }
  EXPECT_EQ(after[0].state, TrialState::kComplete);
  EXPECT_EQ(after[2].state, TrialState::kRunning);
  // Ids keep counting after a reopen.
  EXPECT_EQ(reopened.create_trial("t-5", "cand", "xgboost", {}), 6);
}

TEST(Store, UsesWalAndRecordsSchemaVersion) {
  std::string path = store_path();
  Store store(path);
  store.create_trial("t", "c", "linear", {});
  EXPECT_EQ(raw_pragma(path, "journal_mode"), "wal");
  EXPECT_EQ(raw_pragma(path, "user_version"), "1");
}

TEST(Store, RefusesANewerSchema) {
  std::string path = store_path();
  { Store store(path); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    Store store(path);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
}

TEST(Store, UnopenablePathThrowsNamingIt) {
  std::string path = (testing::scratch_dir("store") / "missing-dir" / "x.sqlite").string();
  try {
    Store store(path);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Store, ConcurrentFinishesLoseNothing) {
  constexpr int kThreads = 8, kPerThread = 25;
  Store store(store_path());
  std::vector<int64_t> ids;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ids.push_back(store.create_trial("t-" + std::to_string(i), "c", "mlp", {{"i", i}}));
    store.start_trial(ids.back());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = t; k < kThreads * kPerThread; k += kThreads) {
        store.report_intermediate(ids[k], 0, k);
        store.finish_trial(ids[k], TrialState::kComplete, {{"k", k}}, 0.5 * k, "", {{"thread", t}});
      }
    });
  }
  for (auto& th : threads) th.join();
  auto all = store.trials();
  ASSERT_EQ(all.size(), ids.size());
  for (size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(all[k].state, TrialState::kComplete);
    EXPECT_EQ(all[k].metrics, (nlohmann::json{{"k", k}}));
    EXPECT_EQ(all[k].objective, 0.5 * k);
    EXPECT_EQ(all[k].info["thread"], static_cast<int>(k % kThreads));
    ASSERT_EQ(all[k].intermediate.size(), 1u);
    EXPECT_EQ(all[k].intermediate[0].second, static_cast<double>(k));
  }
}

// Two connections on one file (two processes of one job): BEGIN IMMEDIATE + busy_timeout
// serialize them instead of failing with SQLITE_BUSY.
TEST(Store, TwoConnectionsOnOneFileInterleaveSafely) {
  std::string path = store_path();
  Store a(path), b(path);
  constexpr int kPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Store& s = t % 2 ? a : b;
      for (int i = 0; i < kPerThread; ++i) {
        int64_t id =
            s.create_trial("t" + std::to_string(t) + "-" + std::to_string(i), "c", "linear", {});
        s.start_trial(id);
        s.finish_trial(id, TrialState::kComplete, {}, t * 100.0 + i, "", {});
      }
    });
  }
  for (auto& th : threads) th.join();
  auto all = a.trials();
  ASSERT_EQ(all.size(), 4u * kPerThread);
  std::set<double> objectives;
  for (const auto& r : all) {
    EXPECT_EQ(r.state, TrialState::kComplete);
    objectives.insert(*r.objective);
  }
  EXPECT_EQ(objectives.size(), 4u * kPerThread);
}

}  // namespace
}  // namespace tabpilot
