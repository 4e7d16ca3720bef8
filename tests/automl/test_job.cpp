// End to end through the library: fit on real small datasets, predict on their test split,
// reproducibility, and the job folder's contents.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "support/test_paths.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/common/files.h"
#include "tabpilot/data/csv.h"

namespace fs = std::filesystem;

namespace tabpilot {
namespace {

JobConfig small_job(const std::string& dataset, const std::string& target, const std::string& name) {
  JobConfig c;
  c.train_path = testing::test_data(dataset + "/train.csv").string();
  c.target = target;
  c.output_dir = testing::scratch_dir("job").string();
  c.name = name;
  c.max_candidates = 8;
  c.time_limit_s = 120;
  c.threads = 2;
  c.progress = false;
  return c;
}

TEST(Job, PenguinsMulticlassEndToEnd) {
  JobConfig c = small_job("penguins", "species", "penguins");
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  fs::path dir = r.job_dir;
  for (const char* f : {"job.json", "store.sqlite", "data_exploration.json",
                        "candidate_definitions.json", "trials.csv", "model/model.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  auto job = describe_job(dir.string());
  EXPECT_EQ(job["AutoMLJobStatus"], "Completed");
  EXPECT_EQ(job["ResolvedAttributes"]["ProblemType"], "MulticlassClassification");
  EXPECT_EQ(job["AutoMLJobObjective"]["MetricName"], "Accuracy");
  EXPECT_EQ(job["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["Type"], "Maximize");
  EXPECT_EQ(job["AutoMLJobSecondaryStatus"], "MaxCandidatesReached");
  EXPECT_EQ(job["tabpilot"]["trials"]["total"], 8);
  // An ensemble, when it beat the best trial, is a row of its own.
  const size_t ensembles = job["tabpilot"]["trials"]["ensembles"].get<size_t>();
  EXPECT_LE(ensembles, 1u);
  EXPECT_EQ(job["BestCandidate"]["Learner"] == "ensemble", ensembles == 1);

  auto rows = list_trials(dir.string());
  ASSERT_EQ(rows.size(), 8u + ensembles);
  EXPECT_EQ(rows[0]["trial"], job["BestCandidate"]["CandidateName"]);
  for (size_t i = 1; i < rows.size(); ++i)
    if (!rows[i]["objective"].is_null())
      EXPECT_GE(rows[i - 1]["objective"].get<double>(), rows[i]["objective"].get<double>());

  // Predict the held-out test split (it carries the target column, which is ignored).
  fs::path out = dir / "pred.csv";
  size_t n = predict_csv(dir.string(), testing::test_data("penguins/test.csv").string(), out.string());
  Table truth = read_csv(testing::test_data("penguins/test.csv").string());
  Table pred = read_csv(out.string());
  ASSERT_EQ(n, truth.num_rows);
  ASSERT_EQ(pred.num_rows, truth.num_rows);
  EXPECT_EQ(pred.names(), (std::vector<std::string>{"predicted_label", "probability",
                                                    "probability_Adelie", "probability_Chinstrap",
                                                    "probability_Gentoo"}));
  size_t correct = 0;
  for (size_t i = 0; i < truth.num_rows; ++i)
    correct += truth.at("species").value_string(i) == pred.at("predicted_label").value_string(i);
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(truth.num_rows), 0.9);
}

TEST(Job, RegressionWithMissingValuesAndCrossValidation) {
  JobConfig c = small_job("auto_mpg", "mpg", "mpg");
  c.cv_folds = 3;
  c.max_candidates = 4;
  c.ensemble_rounds = 0;  // the best single trial
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  auto model = read_json(fs::path(r.job_dir) / "model/model.json");
  EXPECT_EQ(model["members"].size(), 3u);  // one fitted member per fold
  auto rows = list_trials(r.job_dir);
  EXPECT_EQ(rows[0]["validation"].size(), 4u);  // MSE RMSE MAE R2
  EXPECT_GT(rows[0]["validation"]["R2"].get<double>(), 0.7);
  fs::path out = fs::path(r.job_dir) / "pred.csv";
  EXPECT_EQ(predict_csv(r.job_dir, testing::test_data("auto_mpg/test.csv").string(), out.string()), 80u);
}

TEST(Job, HoldOutRefitsTheBestTrialOnAllRows) {
  JobConfig c = small_job("penguins", "species", "refit");
  c.cv_folds = 0;
  c.max_candidates = 4;
  c.ensemble_rounds = 0;  // an ensemble of trial models is not refitted
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  auto job = describe_job(r.job_dir);
  EXPECT_EQ(job["AutoMLJobConfig"]["DataSplitConfig"]["CrossValidationFolds"], 0);
  ASSERT_TRUE(job["tabpilot"].contains("refit"));
  EXPECT_TRUE(job["tabpilot"]["refit"]["done"].get<bool>()) << job["tabpilot"]["refit"].dump();
  EXPECT_EQ(job["tabpilot"]["refit"]["rows"], 275);
  auto model = read_json(fs::path(r.job_dir) / "model/model.json");
  EXPECT_EQ(model["members"].size(), 1u);
  // Without refit the trial's own model (trained on 80% of the rows) is kept.
  JobConfig n = small_job("penguins", "species", "norefit");
  n.cv_folds = 0;
  n.max_candidates = 4;
  n.refit = false;
  n.ensemble_rounds = 0;
  JobResult nr = run_fit(n);
  ASSERT_EQ(nr.status, JobStatus::kCompleted);
  EXPECT_FALSE(describe_job(nr.job_dir)["tabpilot"].contains("refit"));
}

// A family added through the registry and one policy row is picked up by the whole job:
// candidate definitions with its search space, tuning, the pool and predict.
TEST(Job, TheRandomForestFamilyRunsThroughTheWholeJob) {
  JobConfig c = small_job("auto_mpg", "mpg", "forest");
  c.learners = {"random_forest"};
  c.max_candidates = 4;
  const JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  const auto defs = read_json(fs::path(r.job_dir) / "candidate_definitions.json");
  ASSERT_EQ(defs["candidates"].size(), 1u);
  EXPECT_EQ(defs["candidates"][0]["learner"], "random_forest");
  EXPECT_EQ(defs["candidates"][0]["search_space"]["cost_params"],
            (nlohmann::json{"n_trees", "max_depth"}));
  const auto rows = list_trials(r.job_dir);
  size_t forests = 0;
  for (const auto& t : rows) forests += t["learner"] == "random_forest";
  EXPECT_EQ(forests, 4u);
  const fs::path out = fs::path(r.job_dir) / "pred.csv";
  EXPECT_EQ(predict_csv(r.job_dir, testing::test_data("auto_mpg/test.csv").string(), out.string()), 80u);
}

TEST(Job, SmallDataIsCrossValidatedByDefault) {
  JobConfig c = small_job("penguins", "species", "autocv");
  c.max_candidates = 2;
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  EXPECT_EQ(describe_job(r.job_dir)["AutoMLJobConfig"]["DataSplitConfig"]["CrossValidationFolds"], 5);
  EXPECT_EQ(read_json(fs::path(r.job_dir) / "model/model.json")["members"].size(), 5u);
}

TEST(Job, MlpTrialsTrainInBatchesThatShareTheirShapes) {
  JobConfig c = small_job("penguins", "species", "batched");
  c.learners = {"mlp"};
  c.cpu_mlp_batch = 3;  // on a CPU slot a batch trains its trials one after another
  c.max_candidates = 7;
  c.threads = 1;
  c.cv_folds = 0;
  c.ensemble_rounds = 0;  // the leaderboard: the 7 trials only
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  auto rows = list_trials(r.job_dir, "id");
  ASSERT_EQ(rows.size(), 7u);  // companions count against --max-candidates
  // Trials 1-3 form a batch: the leader's depth, batch size and epochs; their own widths and
  // learning rates.
  for (const char* key : {"num_layers", "batch_size", "max_epochs", "patience"})
    for (size_t i = 1; i < 3; ++i) EXPECT_EQ(rows[i]["params"][key], rows[0]["params"][key]) << key;
  EXPECT_NE(rows[1]["params"]["learning_rate"], rows[2]["params"]["learning_rate"]);
  for (const auto& row : rows) EXPECT_EQ(row["state"], "COMPLETE") << row.dump();
}

TEST(Job, SameSeedOneThreadGivesTheSameLeaderboardBitForBit) {
  auto run = [](const std::string& name) {
    JobConfig c = small_job("penguins", "species", name);
    c.threads = 1;
    c.max_candidates = 7;
    c.seed = 11;
    c.time_limit_s = 1e6;
    JobResult r = run_fit(c);
    EXPECT_EQ(r.status, JobStatus::kCompleted);
    nlohmann::json rows = list_trials(r.job_dir);
    for (auto& row : rows) row.erase("seconds");
    return rows.dump();
  };
  EXPECT_EQ(run("a"), run("b"));
}

TEST(Job, TimeLimitIsHard) {
  JobConfig c = small_job("penguins", "species", "timed");
  c.max_candidates = 10000;
  c.time_limit_s = 4;
  auto t0 = std::chrono::steady_clock::now();
  JobResult r = run_fit(c);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 4.0 + 1.5);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  EXPECT_EQ(describe_job(r.job_dir)["AutoMLJobSecondaryStatus"], "MaxAutoMLJobRuntimeReached");
}

// The pool kept for ensembles (the trials/ folder) holds at most 20 trials and at most 5 of
// one candidate, so that many near-equal trials of one candidate leave room for others.
TEST(Job, EnsemblePoolKeepsAtMostFiveTrialsOfOneCandidate) {
  JobConfig c = small_job("penguins", "species", "pool");
  c.learners = {"linear"};
  c.max_candidates = 40;
  c.sampler = "tpe";
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  std::map<std::string, int> per_candidate;
  int kept = 0;
  for (const auto& e : fs::directory_iterator(fs::path(r.job_dir) / "trials")) {
    const std::string name = e.path().filename().string();
    ++kept;
    ++per_candidate[name.substr(0, name.rfind('-'))];
  }
  EXPECT_LE(kept, 20);
  EXPECT_GE(per_candidate.size(), 2u) << "the pool should hold more than one candidate";
  for (const auto& [cand, n] : per_candidate) EXPECT_LE(n, 5) << cand;
  // Every completed trial better than a kept trial of its candidate is kept too (the pool
  // keeps each candidate's best, not an arbitrary five).
  nlohmann::json rows = list_trials(r.job_dir);
  std::map<std::string, int> seen;
  for (const auto& row : rows) {  // best first
    const std::string name = row["trial"].get<std::string>();
    if (row["learner"] == "ensemble" || row["state"] != "COMPLETE") continue;
    const std::string cand = name.substr(0, name.rfind('-'));
    if (++seen[cand] <= per_candidate[cand])
      EXPECT_TRUE(fs::exists(fs::path(r.job_dir) / "trials" / name)) << name;
  }
}

TEST(Job, IdColumnIsExcludedAndQuestionMarksAreMissing) {
  JobConfig c = small_job("breast_cancer_wisconsin", "class", "bcw");
  c.max_candidates = 3;
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  auto model = read_json(fs::path(r.job_dir) / "model/model.json");
  auto features = model["features"].get<std::vector<std::string>>();
  EXPECT_EQ(std::find(features.begin(), features.end(), "id"), features.end());
  EXPECT_EQ(model["problem_type"], "BinaryClassification");
  auto exploration = read_json(fs::path(r.job_dir) / "data_exploration.json");
  bool id_warning = false;
  for (const auto& w : exploration["warnings"]) id_warning |= w["column"] == "id";
  EXPECT_TRUE(id_warning);
}

}  // namespace
}  // namespace tabpilot

namespace tabpilot {
namespace {

TEST(Job, BinaryF1TunesTheDecisionThresholdAndPredictUsesIt) {
  JobConfig c = small_job("breast_cancer_wisconsin", "class", "threshold");
  c.max_candidates = 6;
  JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  auto job = describe_job(r.job_dir);
  ASSERT_TRUE(job["tabpilot"].contains("decision_threshold"));
  const auto& t = job["tabpilot"]["decision_threshold"];
  EXPECT_EQ(t["metric"], "F1");
  // Chosen on the validation predictions: never worse there than 0.5.
  EXPECT_GE(t["validation_at_threshold"].get<double>(), t["validation_at_0.5"].get<double>());
  const float threshold = t["value"].get<float>();
  // The ensemble climbs the log loss for an F1 job, and is kept only when it beats the best
  // trial's log loss on the same rows.
  ASSERT_TRUE(job["tabpilot"].contains("ensemble"));
  const auto& e = job["tabpilot"]["ensemble"];
  EXPECT_EQ(e["selection_metric"], "LogLoss");
  if (e["used"].get<bool>()) {
    EXPECT_LT(e["selection_value"].get<double>(), e["best_single_selection_value"].get<double>());
  }
  auto model = read_json(fs::path(r.job_dir) / "model/model.json");
  EXPECT_FLOAT_EQ(model["decision_threshold"].get<float>(), threshold);
  // Batch predictions follow the threshold, not 0.5.
  fs::path out = fs::path(r.job_dir) / "pred.csv";
  predict_csv(r.job_dir, testing::test_data("breast_cancer_wisconsin/test.csv").string(), out.string());
  Table pred = read_csv(out.string());
  const auto& labels = model["labels"];
  const Column& label = pred.at("predicted_label");
  const Column& p1 = pred.at("probability_" + labels[1].get<std::string>());
  for (size_t i = 0; i < pred.num_rows; ++i)
    EXPECT_EQ(label.value_string(i), labels[p1.numeric[i] >= threshold ? 1 : 0].get<std::string>())
        << "row " << i << " p1 " << p1.numeric[i];
}

}  // namespace
}  // namespace tabpilot
