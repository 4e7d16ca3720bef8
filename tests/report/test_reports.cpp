// Every report of real (small) jobs: the files and their JSON layouts, escaping, the
// notebook's structure, a failed job's index, and — when chromium is installed — each page
// rendered headless without console errors, with charts of non-zero size.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <sys/wait.h>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/test_paths.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/report/column_analysis.h"
#include "tabpilot/report/reports.h"
#include "tabpilot/report/svg.h"

namespace tabpilot {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small, quiet CPU job on a fixture dataset.
JobConfig small_job(const std::string& dataset, const std::string& target, const fs::path& output,
                    const std::string& name, int max_candidates) {
  JobConfig c;
  c.train_path = testing::test_data(dataset + "/train.csv").string();
  c.target = target;
  c.output_dir = output.string();
  c.name = name;
  c.max_candidates = max_candidates;
  c.time_limit_s = 30;
  c.threads = 2;
  c.progress = false;
  c.device = DeviceMode::kCpu;
  return c;
}

// One small job per dataset, shared by the tests of this file.
fs::path job_for(const std::string& dataset, const std::string& target) {
  static std::map<std::string, fs::path> jobs;
  if (auto it = jobs.find(dataset); it != jobs.end()) return it->second;
  const JobResult r =
      run_fit(small_job(dataset, target, testing::scratch_dir("report-jobs"), dataset, 4));
  EXPECT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  ReportOptions o;
  o.shap_rows = 40;
  o.kernel_shap_samples = 64;
  o.background_size = 8;
  write_job_reports(r.job_dir, o);
  return jobs[dataset] = r.job_dir;
}

const char* kReports[] = {"index.html", "data_exploration.html", "candidate_definitions.html",
                          "model_quality.html", "explainability.html"};

TEST(Reports, ClassificationJobWritesEveryReportAndJson) {
  const fs::path job = job_for("penguins", "species");
  for (const char* f : kReports) {
    ASSERT_TRUE(fs::exists(job / f)) << f;
    const std::string h = slurp(job / f);
    EXPECT_EQ(h.find("<script"), std::string::npos) << f;
    EXPECT_EQ(h.find("http://"), h.find("http://www.w3.org/2000/svg")) << f << ": no network";
    EXPECT_NE(h.find("<svg"), std::string::npos) << f;
  }
  const auto mq = nlohmann::json::parse(slurp(job / "model_quality.json"));
  ASSERT_TRUE(mq.contains("multiclass_classification_metrics"));
  EXPECT_TRUE(mq["multiclass_classification_metrics"]["accuracy"].contains("standard_deviation"));
  const auto a = nlohmann::json::parse(slurp(job / "explainability/analysis.json"));
  EXPECT_EQ(a["version"], "1.0");
  const auto& k = a["explanations"]["kernel_shap"];
  ASSERT_EQ(k.size(), 3u);  // one block per class probability
  EXPECT_TRUE(k["label0"]["expected_value"].is_number());
  EXPECT_EQ(k["label0"]["global_shap_values"].size(), 6u);  // every input column
  EXPECT_TRUE(k["label0"]["global_shap_values"].contains("island"));
  // The index links every report.
  const std::string index = slurp(job / "index.html");
  for (const char* f : kReports)
    if (std::string(f) != "index.html") EXPECT_NE(index.find(std::string("href=\"") + f), std::string::npos) << f;
}

TEST(Reports, NotebookIsNbformat4WithARerunCellPerCandidate) {
  const fs::path job = job_for("penguins", "species");
  const auto nb = nlohmann::json::parse(slurp(job / "candidate_definitions.ipynb"));
  EXPECT_EQ(nb["nbformat"], 4);
  EXPECT_GE(nb["nbformat_minor"], 4);
  size_t train_cells = 0;
  for (const auto& c : nb["cells"]) {
    ASSERT_TRUE(c["source"].is_array());
    ASSERT_TRUE(c.contains("metadata"));
    std::string src;
    for (const auto& l : c["source"]) src += l.get<std::string>();
    if (c["cell_type"] == "code") {
      EXPECT_TRUE(c["outputs"].is_array());
      if (src.find("tabpilot(\"train\", \"--job\", JOB, \"--trial\", ") != std::string::npos)
        ++train_cells;
      // No IPython shell line: IPython expands {expressions} in them before the shell runs.
      for (const auto& l : c["source"]) EXPECT_NE(l.get<std::string>().rfind('!', 0), 0u) << l;
    }
  }
  const auto defs = nlohmann::json::parse(slurp(job / "candidate_definitions.json"));
  EXPECT_GE(train_cells, 1u);
  EXPECT_LE(train_cells, defs["candidates"].size());
  EXPECT_NE(slurp(job / "candidate_definitions.html").find("tabpilot train --job"), std::string::npos);
}

// The notebook's code cells run as plain Python and reach the real binary through an
// argument list: a job path holding {expressions}, $(commands) and quotes runs nothing.
TEST(Reports, NotebookCellsRunAndExpandNothingInPaths) {
  const fs::path scratch = testing::scratch_dir("report-notebook");
  JobConfig c = small_job("penguins", "species", scratch / "o{open('PWNED1','w')}$(touch PWNED2)'\"",
                          "nb", 2);
  c.learners = {"linear"};
  const JobResult r = run_fit(c);
  ASSERT_EQ(r.status, JobStatus::kCompleted) << r.failure_reason;
  write_job_reports(r.job_dir, {});
  const auto nb = nlohmann::json::parse(slurp(fs::path(r.job_dir) / "candidate_definitions.ipynb"));
  std::string script;
  for (const auto& cell : nb["cells"]) {
    if (cell["cell_type"] != "code") continue;
    for (const auto& l : cell["source"]) script += l.get<std::string>();
    script += "\n";
  }
  std::ofstream(scratch / "cells.py") << script;
  const std::string cmd = "cd '" + scratch.string() + "' && PATH='" TABPILOT_BINARY_DIR "':\"$PATH\" " +
                          "python3 cells.py > cells.out 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(scratch / "cells.out");
  EXPECT_NE(slurp(scratch / "cells.out").find("match:       yes"), std::string::npos)
      << slurp(scratch / "cells.out");
  EXPECT_FALSE(fs::exists(scratch / "PWNED1"));
  EXPECT_FALSE(fs::exists(scratch / "PWNED2"));
}

TEST(Reports, RegressionJobHasRegressionMetricsAndExactShap) {
  const fs::path job = job_for("auto_mpg", "mpg");
  const auto mq = nlohmann::json::parse(slurp(job / "model_quality.json"));
  ASSERT_TRUE(mq.contains("regression_metrics"));
  for (const char* m : {"mse", "rmse", "mae", "r2"}) EXPECT_TRUE(mq["regression_metrics"][m]["value"].is_number()) << m;
  EXPECT_NE(slurp(job / "model_quality.html").find("Predicted vs actual"), std::string::npos);
  const auto details = nlohmann::json::parse(slurp(job / "data_exploration_details.json"));
  EXPECT_GT(details["columns"].size(), 3u);
}

TEST(Reports, DataExplorationEscapesColumnNames) {
  const fs::path dir = testing::scratch_dir("report-escape");
  std::string csv = "\"<b>x&y</b>\",cat,target\n";
  for (int i = 0; i < 120; ++i)
    csv += std::to_string(i % 13) + "," + (i % 2 ? "\"<i>a</i>\"" : "b") + "," + std::to_string(i % 13 * 2 + i % 3) + "\n";
  std::ofstream(dir / "t.csv") << csv;
  JobConfig c;
  c.train_path = (dir / "t.csv").string();
  c.target = "target";
  c.output_dir = (dir / "jobs").string();
  c.name = "esc";
  c.max_candidates = 2;
  c.time_limit_s = 20;
  c.threads = 2;
  c.progress = false;
  c.device = DeviceMode::kCpu;
  const JobResult r = run_fit(c);
  write_job_reports(r.job_dir, {32, 20, 4, 0});
  for (const char* f : kReports) {
    if (!fs::exists(fs::path(r.job_dir) / f)) continue;
    const std::string h = slurp(fs::path(r.job_dir) / f);
    EXPECT_EQ(h.find("<b>x&y"), std::string::npos) << f;
    EXPECT_EQ(h.find("<i>a</i>"), std::string::npos) << f;
  }
  EXPECT_NE(slurp(fs::path(r.job_dir) / "data_exploration.html").find("&lt;b&gt;x&amp;y&lt;/b&gt;"),
            std::string::npos);
}

TEST(Reports, FailedJobIndexSaysWhy) {
  const fs::path dir = testing::scratch_dir("report-failed");
  fs::create_directories(dir / "job");
  std::ofstream(dir / "job" / "job.json")
      << R"({"AutoMLJobName":"broken","AutoMLJobStatus":"Failed","FailureReason":"every trial <failed>"})";
  write_job_reports(dir / "job");
  const std::string index = slurp(dir / "job" / "index.html");
  EXPECT_NE(index.find("every trial &lt;failed&gt;"), std::string::npos);
  EXPECT_NE(index.find("Reports not written"), std::string::npos);
}

// ---- headless Chromium

std::string chromium_binary() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(c)) return c;
  return "";
}

std::string run(const std::string& cmd, int& rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  rc = pclose(p);
  return out;
}

// A copy of the page with a measuring script at the end of <body>: it writes each chart's
// rendered size and number of drawn shapes into the DOM, which --dump-dom prints.
constexpr const char* kMeasure = R"(<script>(function(){var o=[];
document.querySelectorAll('svg.chart').forEach(function(s){var r=s.getBoundingClientRect();
o.push(s.getAttribute('data-chart')+':'+Math.round(r.width)+'x'+Math.round(r.height)+':'+
s.querySelectorAll('rect,circle,polyline,line').length);});
var d=document.createElement('pre');d.id='measure';d.textContent='SVGS['+o.join(' ')+']';
document.body.appendChild(d);})();</script>)";

TEST(ReportsInChromium, EveryPageRendersItsChartsWithoutConsoleErrors) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  for (const auto& [dataset, target] : {std::pair{"penguins", "species"}, std::pair{"auto_mpg", "mpg"}}) {
    const fs::path job = job_for(dataset, target);
    const fs::path tmp = testing::scratch_dir("chromium");
    for (const char* f : kReports) {
      std::string h = slurp(job / f);
      h.insert(h.rfind("</body>"), kMeasure);
      const fs::path page = tmp / (std::string("m_") + f);
      std::ofstream(page) << h;
      const std::string flags = " --headless=new --no-sandbox --disable-gpu --no-first-run "
                                "--user-data-dir=" + (tmp / "profile").string() +
                                " --enable-logging=stderr --v=0 --window-size=1280,2000 ";
      int rc = 0;
      const std::string dom = run("timeout 90 " + chromium + flags + "--dump-dom 'file://" +
                                      page.string() + "' 2>" + (tmp / "stderr.txt").string(),
                                  rc);
      ASSERT_EQ(rc, 0) << f << "\n" << slurp(tmp / "stderr.txt");
      const std::string log = slurp(tmp / "stderr.txt");
      EXPECT_EQ(log.find("Uncaught"), std::string::npos) << f << log;
      EXPECT_EQ(log.find(":ERROR:CONSOLE"), std::string::npos) << f << log;
      std::smatch m;
      ASSERT_TRUE(std::regex_search(dom, m, std::regex("id=\"measure\">SVGS\\[([^\\]]*)\\]"))) << f;
      const std::string svgs = m[1];
      std::regex item("([a-z]+):(\\d+)x(\\d+):(\\d+)");
      size_t charts = 0;
      for (auto it = std::sregex_iterator(svgs.begin(), svgs.end(), item); it != std::sregex_iterator(); ++it) {
        const auto& g = *it;
        ++charts;
        if (g[1] == "spark") continue;  // a column without values draws an empty sparkline
        EXPECT_GT(std::stoi(g[2]), 50) << f << " " << g[0];
        EXPECT_GT(std::stoi(g[3]), 50) << f << " " << g[0];
        EXPECT_GT(std::stoi(g[4]), 2) << f << " " << g[0] << ": nothing drawn";
      }
      EXPECT_GE(charts, 1u) << f;
      // And a screenshot of the original page.
      const fs::path png = tmp / (std::string(f) + ".png");
      run("timeout 90 " + chromium + flags + "--screenshot=" + png.string() + " 'file://" +
              (job / f).string() + "' 2>/dev/null",
          rc);
      ASSERT_TRUE(fs::exists(png)) << f;
      EXPECT_GT(fs::file_size(png), 20000u) << f;
    }
  }
}


// The data report runs before training: on many rows it samples (and says so) and stays fast.
TEST(Reports, DataExplorationSamplesLargeData) {
  const fs::path dir = testing::scratch_dir("report-large");
  const size_t rows = 300000;
  {
    std::ofstream out(dir / "big.csv");
    out << "a,b,c,cat,y\n";
    uint64_t s = 12345;
    for (size_t i = 0; i < rows; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      const double a = double(s >> 40) / (1 << 24), b = double((s >> 20) & 0xfffff) / 0xfffff;
      out << a << ',' << b << ',' << (i % 1000) << ",k" << (s >> 60) << ',' << 3 * a + b << '\n';
    }
  }
  fs::create_directories(dir / "job");
  std::ofstream(dir / "job" / "job.json")
      << nlohmann::json({{"InputDataConfig", {{{"DataSource", (dir / "big.csv").string()}}}}}).dump();
  std::ofstream(dir / "job" / "data_exploration.json")
      << R"({"rows":300000,"columns":5,"duplicate_rows":0,"target":{"name":"y"},
            "problem_type":{"resolved":"Regression","statement":"regression"},"warnings":[]})";
  const auto t0 = std::chrono::steady_clock::now();
  write_data_exploration_report(dir / "job");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("data exploration report, %zu rows x 5 columns: %.2f s\n", rows, s);
  EXPECT_LT(s, 60.0);
  const auto d = nlohmann::json::parse(slurp(dir / "job" / "data_exploration_details.json"));
  EXPECT_TRUE(d["sampled"].get<bool>());
  EXPECT_EQ(d["rows_total"], rows);
  EXPECT_NE(slurp(dir / "job" / "data_exploration.html").find("random sample of 50000"), std::string::npos);
  // a predicts y well on its own; c (row index mod 1000) does not.
  for (const auto& c : d["columns"]) {
    if (c["name"] == "a") EXPECT_GT(c["prediction_power"].get<double>(), 0.8);
    if (c["name"] == "c") EXPECT_LT(c["prediction_power"].get<double>(), 0.05);
  }
}


TEST(DataAnalysis, ExtremeRowIsTheMostAnomalousAndPowerFollowsTheSignal) {
  std::string csv = "x,noise,z,y\n";
  for (int i = 0; i < 200; ++i)
    csv += std::to_string(i % 20) + "," + std::to_string((i * 37) % 11) + "," +
           std::to_string(i % 5) + "," + std::to_string(2 * (i % 20)) + "\n";
  csv += "3,3,500,6\n";  // row 200: z far out
  const Table t = parse_csv(csv, "t.csv");
  const auto a = report::analyse_dataset(t, "y", Task::kRegression);
  ASSERT_FALSE(a.anomalous_rows.empty());
  EXPECT_EQ(a.anomalous_rows[0].first, 200u);
  EXPECT_LT(a.anomalous_rows[0].second, 0.0);
  EXPECT_EQ(a.negative_anomaly_scores, 1u);
  double px = -1, pn = -1;
  for (const auto& c : a.columns) {
    if (c.name == "x") px = c.prediction_power;
    if (c.name == "noise") pn = c.prediction_power;
  }
  EXPECT_GT(px, 0.8);  // 10 quantile bins over 20 values, shrunk a little to the prior
  EXPECT_LT(pn, 0.1);
  // Pearson r: y = 2x exactly; symmetric matrix. The target comes first, then the columns
  // by prediction power (x first).
  ASSERT_EQ(a.numeric_names[0], "y");
  ASSERT_EQ(a.numeric_names[1], "x");
  EXPECT_NEAR(a.correlation[0][1], 1.0, 1e-9);
  EXPECT_EQ(a.correlation[1][3], a.correlation[3][1]);
}

// A best-so-far curve whose values differ in the last bits (0.88 and 0.88 + 1 ulp): the
// axis ticks once looped forever here and the reports died of bad_alloc.
TEST(Svg, NearlyFlatSeriesDrawsWithFiniteTicks) {
  svg::Series s;
  s.x = {0, 1, 2};
  s.y = {0.88, std::nextafter(0.88, 1.0), 0.88};
  const std::string out = svg::plot({"best objective", "trial", "Accuracy"}, {s});
  EXPECT_NE(out.find("</svg>"), std::string::npos);
  EXPECT_LT(out.size(), size_t{100000});
  for (double lo : {1e9, -3.5, 0.0}) {
    s.y = {lo, std::nextafter(lo, INFINITY)};
    EXPECT_LT(svg::plot({"t", "x", "y"}, {s}).size(), size_t{100000}) << lo;
  }
}

// Wide data: the correlation matrix covers the target and the 49 columns with the most
// prediction power, not all 80 (its size grows with the square of the width).
TEST(DataAnalysis, CorrelationsOfWideDataKeepTheMostPredictiveColumns) {
  const int width = 80;
  std::string csv;
  for (int j = 0; j < width; ++j) csv += "c" + std::to_string(j) + ",";
  csv += "y\n";
  for (int i = 0; i < 300; ++i) {
    // c79 carries the signal; the rest are independent noise.
    const int signal = (i / 3) % 10;  // both halves of the rows see every value
    for (int j = 0; j < width; ++j)
      csv += std::to_string(j == width - 1 ? signal : (i * (j + 7) * 31 + j) % 13) + ",";
    csv += std::to_string(3 * signal) + "\n";
  }
  const Table t = parse_csv(csv, "wide.csv");
  const auto a = report::analyse_dataset(t, "y", Task::kRegression);
  EXPECT_EQ(a.numeric_columns_total, size_t(width + 1));
  ASSERT_EQ(a.numeric_names.size(), report::kMaxCorrelationColumns);
  EXPECT_EQ(a.numeric_names[0], "y");
  EXPECT_EQ(a.numeric_names[1], "c79");
  EXPECT_EQ(a.correlation.size(), report::kMaxCorrelationColumns);
  EXPECT_NEAR(a.correlation[0][1], 1.0, 1e-9);
  EXPECT_LE(a.to_json().dump().size(), size_t{200000});
}


TEST(ReportCli, ReportAndExplainEndToEnd) {
  const std::string cli = std::string(TABPILOT_BINARY_DIR) + "/tabpilot";
  if (!fs::exists(cli)) GTEST_SKIP() << cli << " is not built";
  const fs::path job = job_for("penguins", "species");
  const fs::path tmp = testing::scratch_dir("report-cli");
  int rc = 0;
  fs::remove(job / "index.html");
  run(cli + " report " + job.string() + " --shap-rows 10 --samples 32 --background 4 2>&1", rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::exists(job / "index.html"));
  // Three rows of the test file; the target column is there and ignored.
  std::ifstream in(testing::test_data("penguins/test.csv"));
  std::string line, rows;
  for (int i = 0; i < 4 && std::getline(in, line); ++i) rows += line + "\n";
  std::ofstream(tmp / "rows.csv") << rows;
  const std::string csv = run(cli + " explain " + job.string() + " " + (tmp / "rows.csv").string() +
                                  " --method kernel --samples 32 --background 4 2>/dev/null",
                              rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "row,output,expected_value,prediction,island,bill_length_mm,bill_depth_mm,"
            "flipper_length_mm,body_mass_g,sex");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 * 3);  // rows x classes
  run(cli + " explain " + job.string() + " " + (tmp / "rows.csv").string() +
          " --format json --output " + (tmp / "out.json").string() + " 2>/dev/null",
      rc);
  EXPECT_EQ(rc, 0);
  const auto j = nlohmann::json::parse(slurp(tmp / "out.json"));
  EXPECT_EQ(j["explanations"].size(), 9u);
  run(cli + " explain " + job.string() + " " + (tmp / "rows.csv").string() + " --format xml 2>/dev/null", rc);
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ofstream(tmp / "bad.csv") << "island\nDream\n";
  run(cli + " explain " + job.string() + " " + (tmp / "bad.csv").string() + " 2>/dev/null", rc);
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}

}  // namespace
}  // namespace tabpilot
