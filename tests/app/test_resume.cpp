// kill -9 in the middle of a job, then the same command again: the job resumes. Completed
// trials are kept as they were (not re-run), the ones that were running run again, and the
// time already spent counts against the limit. Also SIGTERM: the job stops early and keeps
// the best model so far.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "support/test_paths.h"
#include "tabpilot/common/files.h"
#include "tabpilot/store/trial_store.h"

namespace fs = std::filesystem;

namespace tabpilot {
namespace {

// Starts the CLI with `args` as a child process (stdout/stderr to files in `dir`).
pid_t spawn_cli(const std::vector<std::string>& args, const fs::path& dir) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> all = {std::string(TABPILOT_BINARY_DIR) + "/tabpilot"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    freopen((dir / "out").c_str(), "a", stdout);
    freopen((dir / "err").c_str(), "a", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

size_t count_state(const fs::path& store_path, TrialState s) {
  if (!fs::exists(store_path)) return 0;
  try {
    size_t n = 0;
    for (const auto& t : open_job_store(store_path.parent_path())->trials()) n += t.state == s;
    return n;
  } catch (const std::exception&) {
    return 0;  // the schema may not be there yet
  }
}

std::vector<std::string> job_args(const fs::path& out, double limit) {
  return {"fit",       testing::test_data("breast_cancer_wisconsin/train.csv").string(),
          "--target",  "class",
          "--output",  out.string(),
          "--name",    "resumable",
          "--max-candidates", "100000",  // the time limit ends the job
          "--time-limit", std::to_string(limit),
          "--threads", "2",
          "--learners", "xgboost,mlp",
          "--quiet"};
}

TEST(Resume, KillNineThenSameCommandKeepsCompletedTrialsAndCountsTheTime) {
  const fs::path out = testing::scratch_dir("resume");
  const fs::path job = out / "resumable";
  const double limit = 30;
  pid_t pid = spawn_cli(job_args(out, limit), out);
  // Let a few trials finish, then kill without warning.
  const auto t0 = std::chrono::steady_clock::now();
  while (count_state(job / "store.sqlite", TrialState::kComplete) < 4) {
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60)) << "no progress";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a heartbeat or two
  kill(pid, SIGKILL);
  wait_exit(pid);
  const double killed_after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::map<std::string, TrialRecord> before;
  size_t running = 0;
  {
    for (auto& t : open_job_store(job)->trials()) {
      running += t.state == TrialState::kRunning;
      before[t.name] = t;
    }
  }
  EXPECT_EQ(read_json(job / "job.json")["AutoMLJobStatus"], "InProgress");

  // The same command resumes (without --force it would refuse a finished job).
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(spawn_cli(job_args(out, limit), out)), 0);
  const double second_run = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  auto j = read_json(job / "job.json");
  EXPECT_EQ(j["AutoMLJobStatus"], "Completed");
  // The time before the kill counted: the second run ends well before a full limit.
  EXPECT_LT(second_run, limit - killed_after + 8) << "killed after " << killed_after << " s";
  EXPECT_GT(second_run, limit - killed_after - 8) << "killed after " << killed_after << " s";
  EXPECT_LE(j["tabpilot"]["elapsed_seconds"].get<double>(), limit + 2);

  std::map<std::string, TrialRecord> after;
  for (auto& t : open_job_store(job)->trials()) after[t.name] = t;
  size_t kept = 0, rerun = 0;
  for (const auto& [name, t] : before) {
    ASSERT_TRUE(after.count(name)) << name << " lost";
    const TrialRecord& a = after[name];
    if (t.state == TrialState::kComplete) {
      // Kept exactly: same score, same finish time (never re-run).
      EXPECT_EQ(a.state, TrialState::kComplete) << name;
      EXPECT_EQ(a.objective, t.objective) << name;
      EXPECT_DOUBLE_EQ(a.finished_at, t.finished_at) << name;
      ++kept;
    }
    if (t.state == TrialState::kRunning) {
      // Run again: finished now (or failed / pruned), after the kill.
      EXPECT_NE(a.state, TrialState::kRunning) << name;
      EXPECT_NE(a.state, TrialState::kWaiting) << name;
      ++rerun;
    }
  }
  EXPECT_GE(kept, 4u);
  EXPECT_EQ(rerun, running);
  EXPECT_TRUE(fs::exists(job / "model" / "model.json"));
  // A finished job is not resumed again: the same command now refuses (exit 2).
  EXPECT_EQ(wait_exit(spawn_cli(job_args(out, limit), out)), 2);
}

TEST(Resume, SigtermStopsEarlyWithTheBestModelSoFar) {
  const fs::path out = testing::scratch_dir("sigterm");
  const fs::path job = out / "resumable";
  pid_t pid = spawn_cli(job_args(out, 120), out);
  const auto t0 = std::chrono::steady_clock::now();
  while (count_state(job / "store.sqlite", TrialState::kComplete) < 2) {
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60)) << "no progress";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGTERM);
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_exit(pid), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(15));
  auto j = read_json(job / "job.json");
  EXPECT_EQ(j["AutoMLJobStatus"], "Stopped");
  EXPECT_EQ(j["AutoMLJobSecondaryStatus"], "Stopped");
  EXPECT_TRUE(fs::exists(job / "model" / "model.json"));
}

}  // namespace
}  // namespace tabpilot
