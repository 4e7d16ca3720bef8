// The tabpilot binary against bad input: every case gives exit code 2, exactly one line on
// stderr that says what and where, and no job folder left behind. Plus a good run and the
// predict/describe/trials commands through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

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

struct BadCase {
  const char* name;
  std::string content;  // written to <name>.csv unless empty and `missing`
  std::string target;
  std::string expect;  // substring of the one error line
  bool missing = false;
};

std::string wide_header(int n) {
  std::string h;
  for (int i = 0; i < n; ++i) h += (i ? ",c" : "c") + std::to_string(i);
  std::string row;
  for (int i = 0; i < n; ++i) row += (i ? ",1" : "1");
  return h + "\n" + row + "\n" + row + "\n";
}

std::string rows_with_target(const std::string& header, const std::string& row, int n) {
  std::string s = header + "\n";
  for (int i = 0; i < n; ++i) s += row + "\n";
  return s;
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, ExitsTwoWithOneLineAndNoJobFolder) {
  const BadCase& c = GetParam();
  auto dir = tabpilot::testing::scratch_dir("bad");
  fs::path csv = dir / (std::string(c.name) + ".csv");
  if (!c.missing) std::ofstream(csv, std::ios::binary) << c.content;
  fs::path runs = dir / "runs";
  CliRun r = run_cli("fit " + csv.string() + " --target " + c.target + " --output " + runs.string() +
                  " --name job --quiet --max-candidates 2 --time-limit 30");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(c.expect), std::string::npos) << "stderr: " << r.err;
  EXPECT_FALSE(fs::exists(runs / "job")) << "a job folder was left behind";
}

std::string numbers(int n) {
  std::string s = "a,b,y\n";
  for (int i = 0; i < n; ++i)
    s += std::to_string(i) + "," + std::to_string(i * 2 % 7) + "," + std::to_string(i % 3) + "\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Cli, BadInput,
    ::testing::Values(
        BadCase{"missing_file", "", "y", "missing_file.csv", true},
        BadCase{"empty", "", "y", "empty.csv"},
        BadCase{"header_only", "a,b,y\n", "y", "header_only.csv"},
        BadCase{"ragged", "a,b,y\n1,2,3\n4,5\n6,7,8\n", "y", "ragged.csv:3"},
        BadCase{"unknown_target", numbers(40), "yy", "did you mean 'y'"},
        BadCase{"target_all_missing", rows_with_target("a,y", "1,", 40), "y", "'y'"},
        BadCase{"single_class", rows_with_target("a,y", "1,cat", 40), "y", "single"},
        BadCase{"too_few_rows", numbers(5), "y", "rows"},
        BadCase{"duplicate_columns", "a,a,y\n1,2,3\n", "y", "duplicate"},
        BadCase{"not_utf8", "a,b,y\n1,\xff\xfe,3\n", "y", "UTF-8"},
        BadCase{"inf_value", "a,b,y\n1,2,3\n1,inf,3\n", "y", "inf"},
        BadCase{"ten_thousand_columns", wide_header(10000), "c0", "columns"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

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

}  // namespace
