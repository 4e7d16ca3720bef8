// `tabpilot train` as SageMaker runs it: the real binary as a child process on a temporary
// /opt/ml root. Success, bad input and a StopTrainingJob (SIGTERM) in the middle of a job.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "support/test_paths.h"
#include "tabpilot/common/files.h"
#include "tabpilot/trainer/pipeline.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace tabpilot;
using tabpilot::testing::scratch_dir;
using tabpilot::testing::test_data;

namespace {

// Starts the CLI with `args`, extra environment entries, stdout/stderr to files in `dir`.
pid_t spawn_cli(const std::vector<std::string>& args, const std::vector<std::string>& env,
                const fs::path& dir) {
  std::vector<std::string> argv_s = {std::string(TABPILOT_BINARY_DIR) + "/tabpilot"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = env;
  for (char** e = environ; *e; ++e) env_s.push_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, (dir / "stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// /opt/ml with penguins' training rows split over two files of the "train" channel.
fs::path make_opt_ml(const nlohmann::json& hyperparameters) {
  const fs::path root = scratch_dir("sm-opt-ml");
  fs::create_directories(root / "input" / "config");
  fs::create_directories(root / "input" / "data" / "train");
  write_json_atomic(root / "input" / "config" / "hyperparameters.json", hyperparameters);
  write_json_atomic(root / "input" / "config" / "inputdataconfig.json",
                    {{"train", {{"ContentType", "text/csv;header=present"},
                                {"TrainingInputMode", "File"},
                                {"S3DistributionType", "FullyReplicated"},
                                {"RecordWrapperType", "None"}}}});
  write_json_atomic(root / "input" / "config" / "resourceconfig.json",
                    {{"current_host", "algo-1"}, {"hosts", {"algo-1"}}, {"network_interface_name", "eth0"}});
  std::ifstream in(test_data("penguins") / "train.csv");
  std::string header, line;
  std::getline(in, header);
  std::ofstream a(root / "input" / "data" / "train" / "part-0.csv"),
      b(root / "input" / "data" / "train" / "part-1.csv");
  a << header << "\n";
  b << header << "\n";
  for (int i = 0; std::getline(in, line); ++i) (i % 2 ? b : a) << line << "\n";
  return root;
}

}  // namespace

TEST(TrainEntry, TrainsIntoOptMl) {
  const fs::path root = make_opt_ml({{"target", "species"},
                                     {"max_candidates", "3"},
                                     {"max_runtime_seconds", "60"},
                                     {"learners", "linear"},
                                     {"seed", "3"}});
  const fs::path logs = scratch_dir("sm-logs");
  const int rc = wait_exit(spawn_cli({"train", "--opt-ml", root.string()}, {}, logs));
  const std::string out = read_file(logs / "stdout.txt");
  ASSERT_EQ(rc, 0) << read_file(logs / "stderr.txt") << out;
  EXPECT_FALSE(fs::exists(root / "output" / "failure"));
  ASSERT_TRUE(fs::exists(root / "model" / "model.json"));
  const Pipeline p = Pipeline::load(root / "model");  // checksums intact after the copy
  EXPECT_EQ(p.target, "species");
  EXPECT_EQ(p.labels.size(), 3u);
  EXPECT_TRUE(fs::exists(root / "output" / "data" / "job.json"));
  EXPECT_TRUE(fs::exists(root / "output" / "data" / "data_exploration.json"));
  EXPECT_TRUE(fs::exists(root / "output" / "data" / "trials.csv"));
  const nlohmann::json job = read_json(root / "output" / "data" / "job.json");
  EXPECT_EQ(job["AutoMLJobStatus"], "Completed");
  EXPECT_EQ(job["tabpilot"]["training_rows"], 275);  // both files, one header
  // The metric lines SageMaker's MetricDefinitions scrape (docker/README.md).
  const std::regex trial_re("tabpilot-metric: trial=\\S+ .*validation:Accuracy=([-+0-9.eE]+);");
  const std::regex best_re("best:Accuracy=([-+0-9.eE]+);");
  const std::regex final_re("tabpilot-metric: final best:Accuracy=([-+0-9.eE]+);");
  std::smatch m;
  size_t trials = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), trial_re); it != std::sregex_iterator(); ++it)
    ++trials;
  // One line per completed trial, and one for the ensemble when it became the model.
  EXPECT_EQ(trials, job["tabpilot"]["trials"]["completed"].get<size_t>() +
                        job["tabpilot"]["trials"]["ensembles"].get<size_t>())
      << out;
  EXPECT_TRUE(std::regex_search(out, m, best_re)) << out;
  ASSERT_TRUE(std::regex_search(out, m, final_re)) << out;
  EXPECT_NEAR(std::stod(m[1]), job["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["Value"].get<double>(),
              1e-9);
}

TEST(TrainEntry, MissingTargetWritesFailureAndExitsTwo) {
  const fs::path root = make_opt_ml({{"max_candidates", "3"}});
  const fs::path logs = scratch_dir("sm-logs");
  const int rc = wait_exit(spawn_cli({"train"}, {"TABPILOT_OPT_ML=" + root.string()}, logs));
  EXPECT_EQ(rc, 2);
  ASSERT_TRUE(fs::exists(root / "output" / "failure"));
  const std::string failure = read_file(root / "output" / "failure");
  EXPECT_NE(failure.find("'target'"), std::string::npos) << failure;
  EXPECT_FALSE(fs::exists(root / "model" / "model.json"));
}

TEST(TrainEntry, BadTargetColumnWritesFailure) {
  const fs::path root = make_opt_ml({{"target", "no_such_column"}, {"max_candidates", "2"}});
  const fs::path logs = scratch_dir("sm-logs");
  const int rc = wait_exit(spawn_cli({"train", "--opt-ml", root.string()}, {}, logs));
  EXPECT_NE(rc, 0);
  ASSERT_TRUE(fs::exists(root / "output" / "failure"));
  EXPECT_NE(read_file(root / "output" / "failure").find("no_such_column"), std::string::npos);
}

TEST(TrainEntry, SigtermMidJobKeepsTheBestModelAndExitsZero) {
  // A search that would run for minutes; stopped once the first trial has finished.
  const fs::path root = make_opt_ml({{"target", "species"},
                                     {"max_candidates", "500"},
                                     {"max_runtime_seconds", "600"},
                                     {"learners", "linear,xgboost"}});
  const fs::path logs = scratch_dir("sm-logs");
  const pid_t pid = spawn_cli({"train", "--opt-ml", root.string()}, {}, logs);
  const auto start = std::chrono::steady_clock::now();
  bool trial_done = false;
  while (!trial_done && std::chrono::steady_clock::now() - start < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ifstream f(logs / "stdout.txt");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    trial_done = text.find("tabpilot-metric: trial=") != std::string::npos;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) FAIL() << "exited early: " << read_file(logs / "stderr.txt");
  }
  ASSERT_TRUE(trial_done) << read_file(logs / "stderr.txt");
  const auto stop = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  const int rc = wait_exit(pid);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stop).count();
  EXPECT_EQ(rc, 0) << read_file(logs / "stderr.txt");
  EXPECT_LT(seconds, 60) << "SageMaker sends SIGKILL 120 s after SIGTERM";
  ASSERT_TRUE(fs::exists(root / "model" / "model.json")) << read_file(logs / "stderr.txt");
  EXPECT_NO_THROW(Pipeline::load(root / "model"));
  const nlohmann::json job = read_json(root / "output" / "data" / "job.json");
  EXPECT_EQ(job["AutoMLJobStatus"], "Stopped");  // DescribeAutoMLJob's status after a stop
  EXPECT_LT(job["tabpilot"]["trials"]["total"].get<int>(), 500);
}

// The other mode of `tabpilot train`: re-run one trial of a finished job folder.
TEST(TrainReproduce, MatchesTheRecordedObjective) {
  const fs::path dir = scratch_dir("sm-repro");
  const std::string fit = std::string(TABPILOT_BINARY_DIR) + "/tabpilot fit " +
                          (test_data("penguins") / "train.csv").string() +
                          " --target species --output " + dir.string() +
                          " --name j --max-candidates 2 --time-limit 30 --learners linear --quiet --force > /dev/null";
  ASSERT_EQ(std::system(fit.c_str()), 0);
  const std::string trial =
      read_json(dir / "j" / "job.json")["BestCandidate"]["CandidateName"].get<std::string>();
  EXPECT_EQ(wait_exit(spawn_cli({"train", "--job", (dir / "j").string(), "--trial", trial}, {}, dir)), 0)
      << read_file(dir / "stderr.txt");
  const std::string text = read_file(dir / "stdout.txt");
  EXPECT_NE(text.find("match:       yes"), std::string::npos) << text;
  EXPECT_EQ(wait_exit(spawn_cli({"train", "--job", (dir / "j").string(), "--trial", trial, "--json"}, {}, dir)), 0);
  const nlohmann::json j = nlohmann::json::parse(read_file(dir / "stdout.txt"));
  EXPECT_EQ(j["trial"], trial);
  EXPECT_TRUE(j["match"].get<bool>());
  EXPECT_FALSE(j.contains("predictions"));
  EXPECT_DOUBLE_EQ(j["objective"].get<double>(), j["recorded_objective"].get<double>());
  // Usage errors exit 2.
  EXPECT_EQ(wait_exit(spawn_cli({"train", "--job", (dir / "j").string()}, {}, dir)), 2);
  EXPECT_EQ(wait_exit(spawn_cli({"train", "--job", (dir / "j").string(), "--trial", "nope"}, {}, dir)), 2);
}
