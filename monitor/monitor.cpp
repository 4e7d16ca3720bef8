// The two monitoring runs: baseline (statistics + suggested constraints of the training data)
// and check (current statistics + violations), reading the job folder for the columns.
#include "tabpilot/monitor/monitor.h"

#include <algorithm>
#include <map>

#include "tabpilot/automl/job_location.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/monitor/capture.h"
#include "tabpilot/monitor/statistics.h"

namespace fs = std::filesystem;

namespace tabpilot::monitor {

JobColumns job_columns(const fs::path& job_dir) {
  if (!fs::exists(job_dir / "job.json"))
    throw InputError(job_dir.string() + ": not a job folder (no job.json)");
  const nlohmann::json job = read_json(job_dir / "job.json");
  JobColumns out;
  try {
    const auto& input = job.at("InputDataConfig").at(0);
    out.train_path = input.at("DataSource").get<std::string>();
    out.target = input.at("TargetAttributeName").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw InputError((job_dir / "job.json").string() +
                     ": no InputDataConfig[0].DataSource / TargetAttributeName");
  }
  const fs::path analysis = job_dir / "data_exploration.json";
  if (!fs::exists(analysis))
    throw InputError(job_dir.string() + ": no data_exploration.json (the job failed before its "
                     "analysis); the feature columns are unknown");
  const nlohmann::json a = read_json(analysis);
  if (!a.contains("features") || !a["features"].is_array())
    throw InputError(analysis.string() + ": no \"features\" list");
  out.features = a["features"].get<std::vector<std::string>>();
  for (const auto& c : a.value("column_profiles", nlohmann::json::array()))
    if (c.is_object() && c.contains("name")) out.training_columns.push_back(c["name"]);
  out.training_columns.push_back(out.target);
  return out;
}

namespace {

fs::path default_dir(const std::string& given, const fs::path& job_dir) {
  return given.empty() ? job_dir / kMonitoringDir : fs::path(given);
}

// The baseline features of `table`, each profiled in its own inferred type.
std::vector<FeatureStatistics> profile_features(const Table& table,
                                                const std::vector<std::string>& names) {
  std::vector<FeatureStatistics> out;
  for (const auto& name : names) {
    const ColumnValues v = classify(table.at(name));
    out.push_back(profile(v, infer_type(v)));
  }
  return out;
}

}  // namespace

BaselineResult run_baseline(const std::string& job_dir, const std::string& data_csv,
                            const std::string& output_dir) {
  const JobColumns job = job_columns(job_dir);
  const std::string path = data_csv.empty() ? job.train_path : data_csv;
  CsvOptions options;
  options.never_id = job.features;
  const Table table = read_csv(path, options);
  for (const auto& f : job.features)
    if (table.find(f) < 0)
      throw InputError(path + ": no column '" + f + "' (a feature column of the job)");
  const std::vector<FeatureStatistics> stats = profile_features(table, job.features);
  const nlohmann::json statistics = statistics_json(stats, table.num_rows);
  BaselineResult r;
  r.output_dir = default_dir(output_dir, job_dir);
  create_output_folder(r.output_dir, "--output");
  write_json_atomic(r.output_dir / kStatisticsFile, statistics);
  write_json_atomic(r.output_dir / kConstraintsFile, suggest_constraints(statistics));
  r.rows = table.num_rows;
  r.features = stats.size();
  return r;
}

CheckResult run_check(const std::string& job_dir, const CheckInput& input) {
  const JobColumns job = job_columns(job_dir);
  const fs::path baseline = default_dir(input.baseline_dir, job_dir);
  for (const char* f : {kStatisticsFile, kConstraintsFile})
    if (!fs::exists(baseline / f))
      throw InputError((baseline / f).string() + ": missing; run `tabpilot monitor baseline " +
                       job_dir + "` first");
  const nlohmann::json base_stats = read_json(baseline / kStatisticsFile);
  const nlohmann::json constraints = read_json(baseline / kConstraintsFile);
  std::vector<std::string> names;  // the baseline's columns, in order
  for (const auto& f : constraints.at("features")) names.push_back(f.at("name").get<std::string>());

  CheckResult r;
  Table table;
  std::vector<std::string> extra;
  CsvOptions options;
  if (input.capture_dir.empty() == input.data_csv.empty())
    throw InputError("monitor check: give a capture folder or --data CSV (exactly one of them)");
  if (!input.data_csv.empty()) {
    options.never_id = names;
    table = read_csv(input.data_csv, options);
    auto has = [](const std::vector<std::string>& v, const std::string& x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    for (const auto& c : table.columns)
      if (!has(names, c.name) && !has(job.training_columns, c.name)) extra.push_back(c.name);
    r.rows = table.num_rows;
  } else {
    const CaptureRows cap = read_capture_dir(input.capture_dir, names);
    // Headerless rows are matched by position; columns beyond the baseline get Spark's
    // default names _c<i>.
    std::string header;
    std::vector<std::string> header_names;
    for (size_t i = 0; i < cap.columns; ++i) {
      header_names.push_back(i < names.size() ? names[i] : "_c" + std::to_string(i));
      if (i >= names.size()) extra.push_back(header_names.back());
      if (i) header.push_back(',');
      append_csv_field(header, header_names.back());
    }
    options.never_id = header_names;
    table = parse_csv(header + "\n" + cap.csv, input.capture_dir, options);
    r.rows = cap.rows;
    r.records = cap.records;
    r.bad_records = cap.bad_records;
    r.first_bad = cap.first_bad;
  }

  std::vector<FeatureStatistics> stats;
  for (const auto& c : table.columns) {
    if (!input.data_csv.empty() && std::find(names.begin(), names.end(), c.name) == names.end() &&
        std::find(extra.begin(), extra.end(), c.name) == extra.end())
      continue;  // a training column that is not a feature (the target, an ID)
    const ColumnValues v = classify(c);
    stats.push_back(profile(v, infer_type(v)));
  }
  r.violations = find_violations(table, extra, base_stats, constraints);
  r.status = r.violations.empty() ? "Completed" : "CompletedWithViolations";
  r.output_dir = input.output_dir.empty()
                     ? job_dir / fs::path(kMonitoringDir) / timestamped_name("check")
                     : fs::path(input.output_dir);
  std::map<std::string, int> by_type;
  for (const auto& v : r.violations) ++by_type[v["constraint_check_type"].get<std::string>()];
  r.execution = {{"MonitoringExecutionStatus", r.status},
                 {"CreationTime", iso_time(unix_now())},
                 {"BaselineStatistics", (baseline / kStatisticsFile).string()},
                 {"BaselineConstraints", (baseline / kConstraintsFile).string()},
                 {"DatasetSource", input.data_csv.empty() ? input.capture_dir : input.data_csv},
                 {"ItemCount", r.rows},
                 {"ViolationCount", r.violations.size()},
                 {"ViolationsByCheckType", by_type}};
  if (input.data_csv.empty())
    r.execution["Capture"] = {{"Records", r.records},
                              {"BadRecords", r.bad_records},
                              {"FirstBadRecord", r.first_bad}};
  create_output_folder(r.output_dir, "--output");
  write_json_atomic(r.output_dir / kStatisticsFile, statistics_json(stats, table.num_rows));
  write_json_atomic(r.output_dir / kViolationsFile, {{"violations", r.violations}});
  write_json_atomic(r.output_dir / kExecutionFile, r.execution);
  return r;
}

}  // namespace tabpilot::monitor
