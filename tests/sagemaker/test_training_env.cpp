// Reading what SageMaker hands a training container: hyperparameters, channels, hosts, files.
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_paths.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/sagemaker/training_env.h"

namespace fs = std::filesystem;
using namespace tabpilot;
using namespace tabpilot::sagemaker;
using tabpilot::testing::scratch_dir;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

fs::path make_opt_ml(const nlohmann::json& hp, const nlohmann::json& channels) {
  const fs::path root = scratch_dir("opt-ml");
  fs::create_directories(root / "input" / "config");
  fs::create_directories(root / "input" / "data" / "train");
  write_json_atomic(root / "input" / "config" / "hyperparameters.json", hp);
  write_json_atomic(root / "input" / "config" / "inputdataconfig.json", channels);
  std::ofstream(root / "input" / "data" / "train" / "part-1.csv") << "a,y\n1,2\n";
  return root;
}

const nlohmann::json kCsvChannel = {{"train", {{"ContentType", "text/csv"}, {"TrainingInputMode", "File"}}}};

}  // namespace

TEST(Hyperparameters, MapOntoJobConfig) {
  const JobConfig c = config_from_hyperparameters(
      {{"target_attribute_name", "\"species\""},  // JSON-quoted, as the Python SDK sends it
       {"problem_type", "MulticlassClassification"},
       {"objective", "Accuracy"},
       {"max_candidates", "7"},
       {"max_runtime_seconds", "120"},
       {"max_runtime_per_training_job_in_seconds", "30"},
       {"seed", "42"},
       {"cv_folds", "3"},
       {"learners", "linear, xgboost"},
       {"refit", "false"}});
  EXPECT_EQ(c.target, "species");
  ASSERT_TRUE(c.problem_type.has_value());
  EXPECT_EQ(*c.problem_type, Task::kMulticlass);
  EXPECT_EQ(c.objective, "Accuracy");
  EXPECT_EQ(c.max_candidates, 7);
  EXPECT_DOUBLE_EQ(c.time_limit_s, 120);
  EXPECT_DOUBLE_EQ(c.trial_time_limit_s, 30);
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.cv_folds, 3);
  EXPECT_EQ(c.learners, (std::vector<std::string>{"linear", "xgboost"}));
  EXPECT_FALSE(c.refit);
  EXPECT_EQ(config_from_hyperparameters({{"target", "y"}, {"time_limit", "9"}}).time_limit_s, 9);
}

TEST(Hyperparameters, ErrorsNameTheProblem) {
  const std::string unknown =
      error_of([] { config_from_hyperparameters({{"target", "y"}, {"eta", "0.1"}, {"depth", "3"}}); });
  EXPECT_NE(unknown.find("'depth', 'eta'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("known: target"), std::string::npos) << unknown;
  EXPECT_NE(error_of([] { config_from_hyperparameters({{"seed", "1"}}); }).find("'target'"),
            std::string::npos);
  EXPECT_NE(error_of([] { config_from_hyperparameters({{"target", "y"}, {"max_candidates", "ten"}}); })
                .find("'max_candidates' must be a number"),
            std::string::npos);
  EXPECT_NE(error_of([] { config_from_hyperparameters({{"target", "y"}, {"problem_type", "Clustering"}}); })
                .find("unknown problem type"),
            std::string::npos);
}

TEST(TrainingEnv, ReadsChannelsHostsAndFiles) {
  const fs::path root = make_opt_ml({{"target", "y"}}, kCsvChannel);
  write_json_atomic(root / "input" / "config" / "resourceconfig.json",
                    {{"current_host", "algo-1"}, {"hosts", {"algo-1"}}, {"network_interface_name", "eth0"}});
  std::ofstream(root / "input" / "data" / "train" / "part-0.csv") << "a,y\n3,4\n";
  std::ofstream(root / "input" / "data" / "train" / ".hidden") << "x";
  const TrainingEnv env = read_training_env(root);
  EXPECT_EQ(env.train_channel, "train");
  EXPECT_EQ(env.current_host, "algo-1");
  ASSERT_EQ(env.train_files.size(), 2u);
  EXPECT_EQ(env.train_files[0].filename(), "part-0.csv");
  EXPECT_EQ(env.config.target, "y");
}

TEST(TrainingEnv, RefusesWhatItDoesNotSupport) {
  auto refuse = [](const nlohmann::json& channels, const std::string& expect) {
    const fs::path root = make_opt_ml({{"target", "y"}}, channels);
    const std::string e = error_of([&] { read_training_env(root); });
    EXPECT_NE(e.find(expect), std::string::npos) << e;
  };
  refuse({{"train", nlohmann::json::object()}, {"validation", nlohmann::json::object()}},
         "'validation' channel is not supported");
  refuse({{"train", {{"ContentType", "application/x-parquet"}}}}, "only text/csv");
  refuse({{"train", {{"ContentType", "text/csv;header=absent"}}}}, "only text/csv");
  refuse({{"test", nlohmann::json::object()}}, "unknown channel 'test'");
  refuse(nlohmann::json::object(), "no 'train' or 'training' channel");

  const fs::path hosts = make_opt_ml({{"target", "y"}}, kCsvChannel);
  write_json_atomic(hosts / "input" / "config" / "resourceconfig.json",
                    {{"current_host", "algo-1"}, {"hosts", {"algo-1", "algo-2"}}});
  EXPECT_NE(error_of([&] { read_training_env(hosts); }).find("multi-host training is not supported"),
            std::string::npos);

  const fs::path gz = make_opt_ml({{"target", "y"}}, kCsvChannel);
  std::ofstream(gz / "input" / "data" / "train" / "more.csv.gz") << "x";
  EXPECT_NE(error_of([&] { read_training_env(gz); }).find("not supported"), std::string::npos);

  EXPECT_NE(error_of([] { read_training_env(scratch_dir("empty-opt-ml")); }).find("hyperparameters.json: missing"),
            std::string::npos);
}

TEST(TrainingEnv, CombinesFilesWithOneHeader) {
  const fs::path dir = scratch_dir("combine");
  std::ofstream(dir / "a.csv") << "x,y\n1,2\n3,4";  // no final newline
  std::ofstream(dir / "b.csv") << "x,y\r\n5,6\n";
  std::ofstream(dir / "c.csv") << "y,x\n7,8\n";
  EXPECT_EQ(combine_csv_files({dir / "a.csv"}, dir / "one.csv"), dir / "a.csv");
  const fs::path both = combine_csv_files({dir / "a.csv", dir / "b.csv"}, dir / "both.csv");
  EXPECT_EQ(read_file(both), "x,y\n1,2\n3,4\n5,6\n");
  EXPECT_NE(error_of([&] { combine_csv_files({dir / "a.csv", dir / "c.csv"}, dir / "bad.csv"); })
                .find("header differs"),
            std::string::npos);
}
