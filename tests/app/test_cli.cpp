// The tabpilot binary through its commands: usage errors, a good run and the predict/describe/
// trials commands. Bad files and hostile arguments are in the catalogue (tests/catalogue).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_paths.h"
#include "tabpilot/cuda/device.h"

namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun run_cli(const std::string& args) {
  auto dir = tabpilot::testing::scratch_dir("cli-io");
  std::string cmd = std::string(TABPILOT_BINARY_DIR) + "/tabpilot " + args + " >" +
                    (dir / "out").string() + " 2>" + (dir / "err").string();
  int status = std::system(cmd.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  return r;
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli("").code, 2);
  EXPECT_EQ(run_cli("fit").code, 2);
  EXPECT_EQ(run_cli("fit x.csv --target y --problem-type nonsense").code, 2);
  CliRun r = run_cli("describe /nonexistent/job");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1u);
  EXPECT_EQ(run_cli("--help").code, 0);
}

TEST(Cli, DeviceGpuWithoutAGpuIsBadInputAndLeavesNoJob) {
  if (!tabpilot::cuda_devices().empty()) GTEST_SKIP() << "a GPU is visible";
  auto runs = tabpilot::testing::scratch_dir("cli-gpu");
  CliRun r = run_cli("fit " + tabpilot::testing::test_data("penguins/train.csv").string() +
                     " --target species --device gpu --output " + runs.string() + " --name g");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("no GPU"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(runs / "g"));
  EXPECT_EQ(run_cli("fit x.csv --target y --device tpu").code, 2);
}

// Autopilot's 250-candidate cap applies unless a time limit is given alone: then the budget
// ends the job (up to 2000 trials); an explicit --max-candidates always wins.
TEST(Cli, TimeLimitAloneRaisesTheCandidateCap) {
  auto runs = tabpilot::testing::scratch_dir("cli-cap");
  const std::string fit = "fit " + tabpilot::testing::test_data("penguins/train.csv").string() +
                          " --target species --learners linear --quiet --output " +
                          runs.string();
  auto cap_of = [&](const std::string& name, const std::string& flags) {
    CliRun r = run_cli(fit + " --name " + name + " " + flags);
    EXPECT_EQ(r.code, 0) << r.err;
    CliRun d = run_cli("describe " + (runs / name).string());
    const size_t at = d.out.find("\"MaxCandidates\": ");
    if (at == std::string::npos) return -1;
    return std::atoi(d.out.c_str() + at + 17);
  };
  EXPECT_EQ(cap_of("timed", "--time-limit 2"), 2000);
  EXPECT_EQ(cap_of("both", "--time-limit 2 --max-candidates 5"), 5);
  EXPECT_EQ(cap_of("neither", ""), 250);
}

TEST(Cli, FitPredictDescribeTrials) {
  auto runs = tabpilot::testing::scratch_dir("cli-runs");
  std::string train = tabpilot::testing::test_data("penguins/train.csv").string();
  CliRun fit = run_cli("fit " + train + " --target species --output " + runs.string() +
                    " --name p --max-candidates 4 --time-limit 60 --quiet");
  ASSERT_EQ(fit.code, 0) << fit.err;
  EXPECT_EQ(fit.err, "");  // --quiet

  CliRun again = run_cli("fit " + train + " --target species --output " + runs.string() + " --name p --quiet");
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("exists"), std::string::npos);

  CliRun describe = run_cli("describe " + (runs / "p").string());
  ASSERT_EQ(describe.code, 0);
  EXPECT_NE(describe.out.find("\"AutoMLJobStatus\": \"Completed\""), std::string::npos);

  CliRun trials = run_cli("trials " + (runs / "p").string() + " --top 2 --format csv");
  ASSERT_EQ(trials.code, 0) << trials.err;
  EXPECT_EQ(lines(trials.out), 3u);  // header + 2
  CliRun bad_sort = run_cli("trials " + (runs / "p").string() + " --sort validation:MSE");
  EXPECT_EQ(bad_sort.code, 2);

  // A test file without a needed column: the error names it.
  auto dir = tabpilot::testing::scratch_dir("cli-pred");
  std::ofstream(dir / "partial.csv") << "island,bill_length_mm\nBiscoe,40\n";
  CliRun missing = run_cli("predict " + (runs / "p").string() + " " + (dir / "partial.csv").string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("bill_depth_mm"), std::string::npos) << missing.err;

  CliRun pred = run_cli("predict " + (runs / "p").string() + " " +
                     tabpilot::testing::test_data("penguins/test.csv").string());
  ASSERT_EQ(pred.code, 0) << pred.err;
  EXPECT_EQ(lines(pred.out), 70u);  // header + 69 rows

  // A changed weights file is refused.
  for (auto& e : fs::directory_iterator(runs / "p" / "model"))
    if (e.path().extension() == ".bin") {
      std::ofstream(e.path(), std::ios::app) << "x";
      break;
    }
  CliRun tampered = run_cli("predict " + (runs / "p").string() + " " +
                         tabpilot::testing::test_data("penguins/test.csv").string());
  EXPECT_EQ(tampered.code, 2);
  EXPECT_NE(tampered.err.find("checksum"), std::string::npos) << tampered.err;
}

// One stray token in a numeric column: the column stays numeric, the value is missing, and
// the warning names the column, the count, the value and its line — on stderr and in
// data_exploration.json. --column-type makes the same column categorical; predict on the
// same file reads the stray as missing too.
TEST(Cli, StrayTokenInANumericColumnIsWarnedAndOverridable) {
  auto dir = tabpilot::testing::scratch_dir("cli-stray");
  std::ifstream in(tabpilot::testing::test_data("penguins/train.csv"));
  std::ofstream out(dir / "stray.csv");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (n == 57) {  // species,island,bill_length_mm,...: the third field becomes "0x10"
      const size_t a = line.find(',', line.find(',') + 1), b = line.find(',', a + 1);
      line = line.substr(0, a + 1) + "0x10" + line.substr(b);
    }
    out << line << "\n";
  }
  out.close();
  const std::string fit = "fit " + (dir / "stray.csv").string() + " --target species --output " +
                          (dir / "runs").string() + " --learners linear --max-candidates 2";
  CliRun r = run_cli(fit + " --name numeric");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("column 'bill_length_mm' is numeric but 1 value is not a number (first: "
                       "'0x10' on line 57)"),
            std::string::npos)
      << r.err;
  const auto de = nlohmann::json::parse(std::ifstream(dir / "runs/numeric/data_exploration.json"));
  bool warned = false;
  for (const auto& w : de["warnings"]) warned |= w["code"] == "non_numeric_values";
  EXPECT_TRUE(warned);
  auto type_of = [](const nlohmann::json& d, const std::string& col) {
    for (const auto& c : d["column_profiles"])
      if (c["name"] == col) return c["type"].get<std::string>();
    return std::string();
  };
  EXPECT_EQ(type_of(de, "bill_length_mm"), "numeric");

  CliRun pred = run_cli("predict " + (dir / "runs/numeric").string() + " " +
                        (dir / "stray.csv").string());
  EXPECT_EQ(pred.code, 0) << pred.err;
  EXPECT_NE(pred.err.find("'0x10' on line 57); read as missing"), std::string::npos) << pred.err;

  CliRun cat = run_cli(fit + " --name categorical --column-type bill_length_mm=categorical -q");
  ASSERT_EQ(cat.code, 0) << cat.err;
  const auto de2 =
      nlohmann::json::parse(std::ifstream(dir / "runs/categorical/data_exploration.json"));
  EXPECT_EQ(type_of(de2, "bill_length_mm"), "categorical");
  const auto job = nlohmann::json::parse(std::ifstream(dir / "runs/categorical/job.json"));
  EXPECT_EQ(job["tabpilot"]["config"]["column_types"]["bill_length_mm"], "categorical");
}

}  // namespace
