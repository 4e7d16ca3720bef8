// Baselines of real jobs: statistics against an independent computation, no violations for
// the held-out test split of the same data, and each check type firing on data made to break it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/test_paths.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/monitor/monitor.h"

namespace fs = std::filesystem;
using namespace tabpilot;
using namespace tabpilot::monitor;
using tabpilot::testing::scratch_dir;
using tabpilot::testing::test_data;

namespace {

// A plain CSV (no quotes in the fixtures): header + rows of fields.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int col(const std::string& n) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == n) return static_cast<int>(i);
    return -1;
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

Csv load(const fs::path& p) {
  std::ifstream in(p);
  Csv c;
  std::string line;
  std::getline(in, line);
  c.header = split(line);
  while (std::getline(in, line))
    if (!line.empty()) c.rows.push_back(split(line));
  return c;
}

void save(const Csv& c, const fs::path& p) {
  std::ofstream out(p);
  for (size_t i = 0; i < c.header.size(); ++i) out << (i ? "," : "") << c.header[i];
  out << "\n";
  for (const auto& r : c.rows) {
    for (size_t i = 0; i < r.size(); ++i) out << (i ? "," : "") << r[i];
    out << "\n";
  }
}

bool missing(const std::string& s) { return s.empty() || s == "NA" || s == "?"; }

// One small real job per dataset (linear learner, one candidate), shared by the tests.
fs::path job_for(const std::string& dataset, const std::string& target) {
  static std::map<std::string, fs::path> jobs;
  if (auto it = jobs.find(dataset); it != jobs.end()) return it->second;
  log::set_level(log::Level::kWarn);
  JobConfig c;
  c.train_path = (test_data(dataset) / "train.csv").string();
  c.target = target;
  c.output_dir = scratch_dir("monitor-jobs").string();
  c.name = dataset;
  c.max_candidates = 1;
  c.time_limit_s = 60;
  c.learners = {"linear"};
  c.progress = false;
  c.threads = 1;
  const JobResult r = run_fit(c);
  EXPECT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  jobs[dataset] = r.job_dir;
  return r.job_dir;
}

std::set<std::pair<std::string, std::string>> kinds(const nlohmann::json& violations) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& v : violations)
    out.insert({v["feature_name"].get<std::string>(), v["constraint_check_type"].get<std::string>()});
  return out;
}

}  // namespace

TEST(MonitorBaseline, StatisticsMatchAStraightforwardComputation) {
  const fs::path job = job_for("penguins", "species");
  const BaselineResult b = run_baseline(job.string(), "", "");
  EXPECT_EQ(b.output_dir, job / "monitoring");
  const nlohmann::json stats = read_json(b.output_dir / kStatisticsFile);
  const Csv csv = load(test_data("penguins") / "train.csv");
  EXPECT_EQ(stats["version"], 0);
  EXPECT_EQ(stats["dataset"]["item_count"], csv.rows.size());
  ASSERT_EQ(stats["features"].size(), csv.header.size() - 1);  // every column but the target
  for (const auto& f : stats["features"]) {
    const std::string name = f["name"];
    const int c = csv.col(name);
    ASSERT_GE(c, 0) << name;
    EXPECT_NE(name, "species");
    if (f.contains("numerical_statistics")) {
      const auto& s = f["numerical_statistics"];
      double sum = 0, mn = INFINITY, mx = -INFINITY;
      std::vector<double> v;
      size_t absent = 0;
      for (const auto& r : csv.rows) {
        if (missing(r[c])) { ++absent; continue; }
        const double x = std::stod(r[c]);
        v.push_back(x);
        sum += x;
        mn = std::min(mn, x);
        mx = std::max(mx, x);
      }
      const double mean = sum / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      const double sd = std::sqrt(ss / static_cast<double>(v.size()));  // population, as Deequ
      EXPECT_EQ(s["common"]["num_present"], v.size()) << name;
      EXPECT_EQ(s["common"]["num_missing"], absent) << name;
      // The CSV reader stores floats; statistics read them back as the decimals written in
      // the file (at most 7 significant digits here), so the sums agree to double rounding.
      EXPECT_NEAR(s["mean"].get<double>(), mean, 1e-12 * std::fabs(mean)) << name;
      EXPECT_NEAR(s["sum"].get<double>(), sum, 1e-12 * std::fabs(sum)) << name;
      EXPECT_NEAR(s["std_dev"].get<double>(), sd, 1e-10 * sd) << name;
      EXPECT_EQ(s["min"].get<double>(), mn) << name;
      EXPECT_EQ(s["max"].get<double>(), mx) << name;
      const auto& buckets = s["distribution"]["kll"]["buckets"];
      ASSERT_EQ(buckets.size(), 10u);
      uint64_t total = 0;
      for (const auto& bk : buckets) total += bk["count"].get<uint64_t>();
      EXPECT_EQ(total, v.size()) << name;
      EXPECT_DOUBLE_EQ(buckets[0]["lower_bound"].get<double>(), s["min"].get<double>());
      EXPECT_DOUBLE_EQ(buckets[9]["upper_bound"].get<double>(), s["max"].get<double>());
      // The first bucket's count by hand.
      const double width = (mx - mn) / 10;
      size_t first = 0;
      for (double x : v) first += x < mn + width;
      EXPECT_EQ(buckets[0]["count"], first) << name;
      EXPECT_TRUE(s["distribution"]["kll"]["sketch"].contains("data"));
    } else {
      const auto& s = f["string_statistics"];
      EXPECT_EQ(f["inferred_type"], "String");
      std::map<std::string, size_t> counts;
      size_t absent = 0;
      for (const auto& r : csv.rows) {
        if (missing(r[c])) ++absent;
        else ++counts[r[c]];
      }
      EXPECT_EQ(s["distinct_count"], counts.size()) << name;
      EXPECT_EQ(s["common"]["num_missing"], absent) << name;
      for (const auto& bk : s["distribution"]["categorical"]["buckets"])
        EXPECT_EQ(bk["count"], counts[bk["value"].get<std::string>()]) << name;
    }
  }
  const nlohmann::json cons = read_json(b.output_dir / kConstraintsFile);
  const auto& cfg = cons["monitoring_config"];
  EXPECT_EQ(cfg["distribution_constraints"]["comparison_method"], "Robust");
  EXPECT_EQ(cfg["distribution_constraints"]["comparison_threshold"], 0.1);
  EXPECT_EQ(cfg["distribution_constraints"]["categorical_drift_method"], "LInfinity");
  for (const auto& f : cons["features"]) {
    if (f["name"] == "island") {
      EXPECT_EQ(f["string_constraints"]["domains"],
                nlohmann::json({"Biscoe", "Dream", "Torgersen"}));
    }
    if (f["name"] == "body_mass_g") {
      EXPECT_EQ(f["inferred_type"], "Integral");
      EXPECT_EQ(f["num_constraints"]["is_non_negative"], true);
      EXPECT_LT(f["completeness"].get<double>(), 1.0);  // two rows lack it
    }
  }
}

// The held-out split of the same data is not drift: no violation of any kind.
TEST(MonitorCheck, TestSplitOfTheSameDataHasNoViolations) {
  for (const auto& [dataset, target] : std::vector<std::pair<std::string, std::string>>{
           {"penguins", "species"}, {"auto_mpg", "mpg"}, {"breast_cancer_wisconsin", "class"}}) {
    const fs::path job = job_for(dataset, target);
    run_baseline(job.string(), "", "");
    CheckInput in;
    in.data_csv = (test_data(dataset) / "test.csv").string();
    in.output_dir = (scratch_dir("check") / "out").string();
    const CheckResult r = run_check(job.string(), in);
    EXPECT_EQ(r.status, "Completed") << dataset << ": " << r.violations.dump(1);
    EXPECT_TRUE(r.violations.empty()) << dataset;
    EXPECT_TRUE(fs::exists(fs::path(in.output_dir) / kViolationsFile));
    EXPECT_TRUE(fs::exists(fs::path(in.output_dir) / kStatisticsFile));
    EXPECT_EQ(read_json(fs::path(in.output_dir) / kExecutionFile)["MonitoringExecutionStatus"],
              "Completed");
  }
}

TEST(MonitorCheck, InjectedDriftIsFound) {
  const fs::path job = job_for("penguins", "species");
  run_baseline(job.string(), "", "");
  Csv csv = load(test_data("penguins") / "test.csv");
  const nlohmann::json stats = read_json(job / "monitoring" / kStatisticsFile);
  double sd = 0;
  for (const auto& f : stats["features"])
    if (f["name"] == "bill_length_mm") sd = f["numerical_statistics"]["std_dev"];
  const int bill = csv.col("bill_length_mm"), island = csv.col("island");
  for (auto& r : csv.rows) {
    if (!missing(r[bill])) r[bill] = std::to_string(std::stod(r[bill]) + 2 * sd);
    // Remap: Biscoe -> Dream, Dream -> Torgersen (same domain, other shares).
    if (r[island] == "Biscoe") r[island] = "Dream";
    else if (r[island] == "Dream") r[island] = "Torgersen";
  }
  const fs::path dir = scratch_dir("drift");
  save(csv, dir / "drifted.csv");
  CheckInput in;
  in.data_csv = (dir / "drifted.csv").string();
  in.output_dir = (dir / "out").string();
  const CheckResult r = run_check(job.string(), in);
  EXPECT_EQ(r.status, "CompletedWithViolations");
  const auto k = kinds(r.violations);
  EXPECT_TRUE(k.count({"bill_length_mm", "baseline_drift_check"})) << r.violations.dump(1);
  EXPECT_TRUE(k.count({"island", "baseline_drift_check"})) << r.violations.dump(1);
  EXPECT_EQ(k.size(), 2u) << r.violations.dump(1);  // nothing else moved
  const auto file = read_json(dir / "out" / kViolationsFile);
  EXPECT_EQ(file["violations"].size(), 2u);
}

TEST(MonitorCheck, TypeCompletenessDomainAndColumnChecks) {
  const fs::path job = job_for("penguins", "species");
  run_baseline(job.string(), "", "");
  Csv csv = load(test_data("penguins") / "test.csv");
  const int depth = csv.col("bill_depth_mm"), flipper = csv.col("flipper_length_mm"),
            island = csv.col("island");
  for (size_t i = 0; i < csv.rows.size(); ++i) {
    auto& r = csv.rows[i];
    if (i % 2 == 0) r[depth] = "deep";              // half the values are not numbers
    if (i % 2 == 1) r[flipper] = "";                // half the values are missing
    if (i % 3 == 0) r[island] = "Atlantis";         // a third outside the domain
  }
  csv.header.push_back("colour");  // extra column
  for (auto& r : csv.rows) r.push_back("red");
  const int mass = csv.col("body_mass_g");  // missing column
  csv.header.erase(csv.header.begin() + mass);
  for (auto& r : csv.rows) r.erase(r.begin() + mass);
  const fs::path dir = scratch_dir("checks");
  save(csv, dir / "broken.csv");
  CheckInput in;
  in.data_csv = (dir / "broken.csv").string();
  in.output_dir = (dir / "out").string();
  const auto k = kinds(run_check(job.string(), in).violations);
  EXPECT_TRUE(k.count({"bill_depth_mm", "data_type_check"}));
  EXPECT_TRUE(k.count({"flipper_length_mm", "completeness_check"}));
  EXPECT_TRUE(k.count({"island", "categorical_values_check"}));
  EXPECT_TRUE(k.count({"body_mass_g", "missing_column_check"}));
  EXPECT_TRUE(k.count({"colour", "extra_column_check"}));
  EXPECT_FALSE(k.count({"sex", "completeness_check"}));
}

namespace {

// Headerless feature rows of a fixture CSV (the target column dropped), as an endpoint gets them.
std::vector<std::string> feature_rows(const Csv& csv, const std::string& target) {
  std::vector<std::string> out;
  const int t = csv.col(target);
  for (const auto& r : csv.rows) {
    std::string line;
    for (size_t i = 0, n = 0; i < r.size(); ++i) {
      if (static_cast<int>(i) == t) continue;
      line += (n++ ? "," : "") + r[i];
    }
    out.push_back(line);
  }
  return out;
}

std::string capture_line(const std::string& data) {
  return nlohmann::json{{"captureData",
                         {{"endpointInput",
                           {{"observedContentType", "text/csv"},
                            {"mode", "INPUT"},
                            {"data", data},
                            {"encoding", "CSV"}}}}},
                        {"eventMetadata", {{"eventId", "x"}}},
                        {"eventVersion", "0"}}
      .dump();
}

}  // namespace

TEST(MonitorCheck, CaptureFolderOfTheTestSplit) {
  const fs::path job = job_for("penguins", "species");
  run_baseline(job.string(), "", "");
  const auto rows = feature_rows(load(test_data("penguins") / "test.csv"), "species");
  const fs::path cap = scratch_dir("capture") / "ep" / "AllTraffic" / "2024" / "05" / "01" / "13";
  fs::create_directories(cap);
  {
    std::ofstream f(cap / "00-00-000-abc.jsonl");
    for (size_t i = 0; i < rows.size(); i += 2)  // two rows per request where possible
      f << capture_line(rows[i] + "\n" + (i + 1 < rows.size() ? rows[i + 1] + "\n" : "")) << "\n";
    f << "garbage line\n";
  }
  CheckInput in;
  in.capture_dir = cap.parent_path().parent_path().string();
  in.output_dir = (scratch_dir("capture-out") / "out").string();
  const CheckResult r = run_check(job.string(), in);
  EXPECT_EQ(r.status, "Completed") << r.violations.dump(1);
  EXPECT_EQ(r.rows, rows.size());
  EXPECT_EQ(r.bad_records, 1u);
  EXPECT_NE(r.first_bad.find("00-00-000-abc.jsonl:"), std::string::npos);
  const auto exec = read_json(fs::path(in.output_dir) / kExecutionFile);
  EXPECT_EQ(exec["Capture"]["BadRecords"], 1);
}

TEST(MonitorCheck, CaptureWithTooFewColumnsReportsMissingOnes) {
  const fs::path job = job_for("penguins", "species");
  run_baseline(job.string(), "", "");
  const fs::path cap = scratch_dir("capture-short");
  {
    std::ofstream f(cap / "a.jsonl");
    f << capture_line("Biscoe,40.1,18.2\nDream,38.0,17.5\n") << "\n";
  }
  CheckInput in;
  in.capture_dir = cap.string();
  in.output_dir = (cap / "out").string();
  const auto k = kinds(run_check(job.string(), in).violations);
  EXPECT_TRUE(k.count({"flipper_length_mm", "missing_column_check"}));
  EXPECT_TRUE(k.count({"sex", "missing_column_check"}));
}

TEST(MonitorCli, CheckPrintsTheStatusAndExitsZero) {
  const fs::path job = job_for("penguins", "species");
  const std::string cli = std::string(TABPILOT_BINARY_DIR) + "/tabpilot";
  const fs::path out = scratch_dir("cli");
  ASSERT_EQ(std::system((cli + " monitor baseline " + job.string() + " --output " +
                         (out / "base").string() + " > " + (out / "b.txt").string())
                            .c_str()),
            0);
  const std::string check = cli + " monitor check " + job.string() + " --baseline " +
                            (out / "base").string() + " --data " +
                            (test_data("auto_mpg") / "test.csv").string() + " --output " +
                            (out / "c").string() + " > " + (out / "c.txt").string();
  ASSERT_EQ(std::system(check.c_str()), 0);
  const std::string summary = read_file(out / "c.txt");
  EXPECT_NE(summary.find("CompletedWithViolations"), std::string::npos) << summary;
  EXPECT_NE(summary.find("missing_column_check"), std::string::npos) << summary;
  // Bad input: no baseline there -> exit 2.
  const int rc = std::system((cli + " monitor check " + job.string() + " --baseline " +
                              (out / "none").string() + " --data x.csv 2>/dev/null")
                                 .c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}
